package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httputil"
	"slices"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
	"github.com/sluicehq/sluice/internal/router"
)

// buildRouter constructs every provider and the router over them. The
// router reports to g.health, which outlives reloads (breakers and latency
// averages carry over); buildRouter does not change it: Reload applies
// cfg.routing's breaker settings once the new snapshot is in force.
func (g *Gateway) buildRouter(cfg *config.Config, pcfgs []provider.Config, client *http.Client, log *slog.Logger) (*router.Router, map[string]*httputil.ReverseProxy, error) {
	var errs []error
	byName := make(map[string]provider.Provider, len(pcfgs))
	rps := make([]router.Provider, 0, len(pcfgs))
	proxies := make(map[string]*httputil.ReverseProxy)
	types := make(map[string]string, len(pcfgs))
	for _, pc := range pcfgs {
		pc.Client = client
		p, err := newProvider(pc)
		if err != nil {
			errs = append(errs, fmt.Errorf("provider %q: %w", pc.Name, err))
			continue
		}
		byName[pc.Name] = p
		types[pc.Name] = pc.Type
		region := ""
		if cp := cfg.ProviderByName(pc.Name); cp != nil {
			region = cp.Region
		}
		rps = append(rps, router.Provider{Provider: p, Models: pc.Models, Region: region})
		if pt, ok := p.(provider.Passthrough); ok {
			proxies[pc.Name] = newPassthroughProxy(pt, client.Transport, log)
		}
	}
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("gateway: %w", errors.Join(errs...))
	}
	if g.mockBase != "" {
		types["mock"] = "mock" // priced by the catalog's test entry
	}
	vms := make([]router.VirtualModel, 0, len(cfg.Models))
	for _, m := range cfg.Models {
		vm := router.VirtualModel{Name: m.Name, Strategy: m.Strategy, Policy: modelPolicy(m.Retry, m.Timeouts, m.FallbackOn)}
		for _, t := range m.Targets {
			if t.Provider == "" {
				vm.Targets = append(vm.Targets, router.Target{Virtual: t.Model, Weight: t.Weight})
				continue
			}
			p := byName[t.Provider]
			if p == nil {
				return nil, nil, fmt.Errorf("gateway: model %q: unknown provider %q", m.Name, t.Provider)
			}
			vm.Targets = append(vm.Targets, router.Target{Provider: p, Model: t.Model, Weight: t.Weight,
				Region: t.Region, ContextWindow: t.ContextWindow, MaxTokens: t.MaxTokens,
				Overrides: targetOverrides(&t)})
		}
		vms = append(vms, vm)
	}
	prices, err := priceCatalog(cfg.Pricing)
	if err != nil {
		return nil, nil, err
	}
	rc := &cfg.Routing
	rt, err := router.New(router.Config{
		Providers: rps, Models: vms, Health: g.health,
		Direct: modelPolicy(rc.Retry, rc.Timeouts, rc.FallbackOn),
		Price: func(prov, model string) (int64, bool) {
			p, ok := prices.Lookup(prov, types[prov], model)
			return p.Input + p.Output, ok
		},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("gateway: %w", err)
	}
	return rt, proxies, nil
}

// healthConfig is the breaker and least-latency part of the routing
// section.
func healthConfig(rc *config.Routing) router.HealthConfig {
	b := rc.Breaker
	return router.HealthConfig{
		Breaker: router.BreakerConfig{Enabled: b.Enabled, ConsecutiveFailures: b.ConsecutiveFailures,
			ErrorRate: b.ErrorRate, Window: b.Window.Std(), MinRequests: b.MinRequests,
			Cooldown: b.Cooldown.Std(), HalfOpenProbes: b.HalfOpenProbes},
		LatencyAlpha: rc.LeastLatency.Decay,
		Explore:      rc.LeastLatency.Explore,
	}
}

// modelPolicy is the router policy of a validated model (or of the
// routing defaults, for direct calls).
func modelPolicy(r config.Retry, t config.Timeouts, fallbackOn []string) router.Policy {
	rr := routerRetry(&r)
	p := router.Policy{MaxAttempts: rr.MaxAttempts, Backoff: rr.Backoff, Delay: rr.Delay, MaxDelay: rr.MaxDelay,
		Jitter: rr.Jitter, MaxRetryAfter: rr.MaxRetryAfter,
		RequestTimeout: t.Request.Std(), AttemptTimeout: t.Attempt.Std(), TTFT: t.TTFT.Std(), Idle: t.Idle.Std()}
	for _, f := range fallbackOn {
		switch f {
		case "context_length":
			p.FallbackOn |= router.FallbackContextLength
		case "content_policy":
			p.FallbackOn |= router.FallbackContentPolicy
		}
	}
	return p
}

// routerRetry converts validated retry settings.
func routerRetry(r *config.Retry) router.Retry {
	b, _ := router.ParseBackoff(r.Backoff)
	return router.Retry{MaxAttempts: r.MaxAttempts, Backoff: b, Delay: r.Delay.Std(), MaxDelay: r.MaxDelay.Std(),
		Jitter: r.Jitter, MaxRetryAfter: r.MaxRetryAfter.Std()}
}

// targetOverrides are a target's own retry settings and extra params;
// nil when it has neither.
func targetOverrides(t *config.Target) *router.Overrides {
	if t.Retry == nil && len(t.Extra) == 0 {
		return nil
	}
	o := &router.Overrides{Patch: extraPatch(t.Extra)}
	if t.Retry != nil {
		r := routerRetry(t.Retry)
		o.Retry = &r
	}
	return o
}

// extraPatch turns a target's extra params into the merge patch its
// requests carry (llm.Request.Patch), keys sorted; nil for none. A nil
// value is null (which removes the member).
func extraPatch(extra map[string]config.JSON) json.RawMessage {
	if len(extra) == 0 {
		return nil
	}
	keys := slices.Sorted(maps.Keys(extra))
	b := []byte{'{'}
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(jsonw.AppendString(b, k), ':')
		if v := extra[k]; v != nil {
			b = append(b, v...)
		} else {
			b = append(b, "null"...)
		}
	}
	return append(b, '}')
}

// routedStream is a stream the router answered with: it ends the router's
// hold on the target (in-flight count, attempt context) when closed, with
// the error the stream ended on, and applies the idle timeout between
// chunks.
type routedStream struct {
	llm.Stream
	res *router.Result
	// last is the error the stream ended with (nil: not ended or clean).
	last error

	// idle, when not nil, cancels the stream's context (cause
	// errStreamIdle) after idleFor without a chunk; ctx is the client's.
	idle    *time.Timer
	idleFor time.Duration
	sctx    context.Context
	ctx     context.Context
	cancel  context.CancelCauseFunc
	closed  bool
}

// errStreamIdle is the cause that ends a stream silent for too long.
var errStreamIdle = errors.New("gateway: stream idle timeout")

func (s *routedStream) Recv() (*llm.Chunk, error) {
	if s.idle != nil {
		s.idle.Reset(s.idleFor)
	}
	c, err := s.Stream.Recv()
	if s.idle != nil {
		s.idle.Stop()
	}
	if err != nil {
		if s.sctx != nil && s.ctx.Err() == nil && context.Cause(s.sctx) == errStreamIdle {
			err = &llm.Error{Status: http.StatusGatewayTimeout, Type: llm.TypeTimeout, Code: "stream_idle_timeout",
				Fault: llm.FaultProvider, Provider: s.res.Target.Provider.Name(), Err: errStreamIdle,
				Message: fmt.Sprintf("provider %q sent nothing for %s in the middle of the stream", s.res.Target.Provider.Name(), s.idleFor)}
		}
		s.last = err
	}
	return c, err
}

func (s *routedStream) Close() error {
	err := s.Stream.Close()
	if !s.closed {
		s.closed = true
		if s.idle != nil {
			s.idle.Stop()
			s.cancel(nil)
		}
		s.res.Release(s.last)
	}
	return err
}

// capTokens applies a target's max_tokens cap to a copy of the request.
func capTokens(req *llm.Request, limit int) {
	if limit > 0 && (req.MaxTokens == nil || *req.MaxTokens > limit) {
		req.MaxTokens = &limit
	}
}

// noteAttemptFailure logs a failed upstream attempt (the request log
// record keeps only the count and the last target).
func (g *Gateway) noteAttemptFailure(ctx context.Context, ex *Exchange, t router.Target, err error) {
	e := llm.AsError(err)
	if e.Status == provider.StatusClientClosed {
		return
	}
	g.log.LogAttrs(ctx, slog.LevelWarn, "upstream attempt failed", slog.String("request_id", ex.ID),
		slog.String("provider", t.Provider.Name()), slog.String("model", t.Model),
		slog.Int("status", e.Status), slog.String("code", e.Code), slog.Bool("retryable", e.Retryable()))
}
