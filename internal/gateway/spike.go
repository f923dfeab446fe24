package gateway

import (
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/limit"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/store"
)

// spikeGuard is auth.spike: one detector per client address and one per
// key (principal KeyID, JWTs included), so neither a new address nor a
// leaked key can suddenly multiply its traffic.
type spikeGuard struct {
	ips, keys *limit.SpikeDetector
	cfg       config.Spike
	throttled atomic.Uint64 // requests refused
	trips     atomic.Uint64 // cool-downs started
}

// newSpikeGuard returns nil when auth.spike is off. now is the clock (nil
// = time.Now).
func newSpikeGuard(cfg config.Spike, now func() time.Time) (*spikeGuard, error) {
	if !cfg.Enabled {
		return nil, nil
	}
	lc := limit.SpikeConfig{Factor: cfg.Factor, Window: cfg.Window.Std(), Baseline: cfg.Baseline.Std(),
		MinRequests: int64(cfg.MinRequests), Cooldown: cfg.Cooldown.Std(), Now: now}
	ips, err := limit.NewSpikeDetector(lc)
	if err != nil {
		return nil, fmt.Errorf("gateway: auth.spike: %w", err)
	}
	keys, err := limit.NewSpikeDetector(lc)
	if err != nil {
		return nil, fmt.Errorf("gateway: auth.spike: %w", err)
	}
	return &spikeGuard{ips: ips, keys: keys, cfg: cfg}, nil
}

// checkSpike counts r against its address and, when p is not nil, its
// key, and returns the 429 for a subject in a cool-down. The request that
// starts a cool-down logs it and records a "traffic.spike" event.
func (g *Gateway) checkSpike(r *http.Request, p *auth.Principal) error {
	s := g.spike
	if s == nil {
		return nil
	}
	ip := clientIP(r)
	if v := s.ips.Hit(ip); v.Throttled {
		return g.spiked(r, v, "ip:"+ip, "address")
	}
	if p != nil && p.KeyID != "" {
		if v := s.keys.Hit(p.KeyID); v.Throttled {
			return g.spiked(r, v, "key:"+p.KeyID, "key")
		}
	}
	return nil
}

// spiked reports a trip once and returns the 429 for a throttled request.
func (g *Gateway) spiked(r *http.Request, v limit.Spike, subject, what string) error {
	s := g.spike
	s.throttled.Add(1)
	if v.Tripped {
		s.trips.Add(1)
		baseline := strconv.FormatFloat(v.Baseline, 'f', 1, 64)
		g.log.Warn("traffic spike: throttling", "id", infoFrom(r.Context()).id, "subject", subject,
			"requests", v.Count, "window", s.cfg.Window.String(), "baseline", baseline,
			"cooldown", s.cfg.Cooldown.String())
		g.event(store.Event{Kind: "traffic.spike", Severity: store.SeverityWarning, Subject: subject,
			Message: fmt.Sprintf("traffic spike from %s %s: %d requests in %s against a usual %s; throttled for %s",
				what, subject[len(what)+1:], v.Count, s.cfg.Window, baseline, s.cfg.Cooldown),
			Detail: map[string]string{"requests": strconv.FormatInt(v.Count, 10), "baseline": baseline,
				"window": s.cfg.Window.String(), "factor": strconv.FormatFloat(s.cfg.Factor, 'g', -1, 64),
				"cooldown": s.cfg.Cooldown.String()}})
	}
	return &llm.Error{Status: http.StatusTooManyRequests, Type: llm.TypeRateLimit, Code: "rate_limit_exceeded",
		Fault: llm.FaultCaller, RetryAfter: max(v.RetryAfter, time.Second),
		Message: "traffic spike: this " + what + "'s request rate jumped far above its usual level; " +
			"requests are refused until the cool-down ends"}
}

// register exports the guard's counters to reg.
func (s *spikeGuard) register(reg *prometheus.Registry) {
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "sluice_spike_throttled_total",
			Help: "Requests refused because their key or address was in a traffic-spike cool-down."},
			func() float64 { return float64(s.throttled.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "sluice_spike_trips_total",
			Help: "Traffic-spike cool-downs started."},
			func() float64 { return float64(s.trips.Load()) }),
	)
}
