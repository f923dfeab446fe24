package gateway

import (
	"time"

	"github.com/sluicehq/sluice/internal/admin"
	"github.com/sluicehq/sluice/internal/router"
	"github.com/sluicehq/sluice/internal/telemetry"
)

// providerHealth lists the current config's providers with the live
// health of every target tracked for them, for GET /admin/v1/providers.
func (g *Gateway) providerHealth() []admin.ProviderHealth {
	s := g.snap.Load()
	if s == nil {
		return nil
	}
	byName := map[string]int{}
	var out []admin.ProviderHealth
	for _, p := range s.router.Providers() {
		name := p.Name()
		byName[name] = len(out)
		out = append(out, admin.ProviderHealth{Name: name, Type: s.providerTypes[name],
			Region: s.router.ProviderRegion(name), Down: g.health.ProviderDown(name)})
	}
	for _, st := range g.health.Snapshot() {
		i, ok := byName[st.Provider]
		if !ok {
			continue // a provider a reload removed
		}
		th := admin.TargetHealth{Model: st.Model, State: router.StateName(st.State),
			ConsecutiveFailures: st.ConsecutiveFailures, Failures: st.Failures, Successes: st.Successes,
			Opens: st.Opens, LatencyMS: ms(st.Latency), TTFTMS: ms(st.TTFT), InFlight: st.InFlight}
		if !st.LastFailure.IsZero() {
			t := st.LastFailure.UTC()
			th.LastFailure = &t
		}
		if !st.OpenedAt.IsZero() {
			t := st.OpenedAt.UTC()
			th.OpenedAt = &t
		}
		out[i].Targets = append(out[i].Targets, th)
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// targetGauges is the per-target state for the routing metrics. Targets
// tracked only because a client named them ("provider/model" in no config)
// are folded into one series per provider with the model label "other",
// as the request metrics do for unknown models: the worst breaker state,
// the sum of requests in flight and the mean of the measured latencies.
// (A configured model named "other" shares that series, so no label set
// is ever exported twice.)
func (g *Gateway) targetGauges() []telemetry.TargetGauge {
	snap := g.health.Snapshot()
	out := make([]telemetry.TargetGauge, 0, len(snap))
	type other struct {
		i           int // index in out
		lat, ttft   float64
		nlat, nttft int
	}
	var others map[string]*other
	for _, st := range snap {
		tg := telemetry.TargetGauge{Provider: st.Provider, Model: st.Model, State: st.State, InFlight: st.InFlight,
			LatencySeconds: st.Latency.Seconds(), TTFTSeconds: st.TTFT.Seconds()}
		if !st.Direct && st.Model != otherModel {
			out = append(out, tg)
			continue
		}
		if others == nil {
			others = map[string]*other{}
		}
		o := others[st.Provider]
		if o == nil {
			o = &other{i: len(out)}
			others[st.Provider] = o
			out = append(out, telemetry.TargetGauge{Provider: st.Provider, Model: otherModel})
		}
		agg := &out[o.i]
		agg.State = max(agg.State, tg.State)
		agg.InFlight += tg.InFlight
		if tg.LatencySeconds > 0 {
			o.lat += tg.LatencySeconds
			o.nlat++
			agg.LatencySeconds = o.lat / float64(o.nlat)
		}
		if tg.TTFTSeconds > 0 {
			o.ttft += tg.TTFTSeconds
			o.nttft++
			agg.TTFTSeconds = o.ttft / float64(o.nttft)
		}
	}
	return out
}

// otherModel is the model label of targets that are in no config.
const otherModel = "other"
