package gateway

import (
	"context"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/provider"
)

// Active health checks: providers with health_check.interval are probed
// (their model list) on that interval; after healthCheckFailures failed
// probes in a row their targets are skipped like open breakers, until a
// probe succeeds. The checker reads the current config on every tick, so a
// reload changes what is probed without a restart.
const (
	healthCheckTick     = time.Second
	healthCheckFailures = 2
	healthCheckTimeout  = 5 * time.Second
)

// healthChecker runs the probes; stop ends it and waits.
type healthChecker struct {
	g      *Gateway
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	state map[string]*probeState // by provider name
}

type probeState struct {
	next     time.Time
	running  bool
	failures int
}

func startHealthChecks(g *Gateway) *healthChecker {
	ctx, cancel := context.WithCancel(context.Background())
	hc := &healthChecker{g: g, cancel: cancel, done: make(chan struct{}), state: map[string]*probeState{}}
	go hc.loop(ctx)
	return hc
}

func (hc *healthChecker) stop() {
	if hc == nil {
		return
	}
	hc.cancel()
	<-hc.done
}

func (hc *healthChecker) loop(ctx context.Context) {
	defer close(hc.done)
	t := time.NewTicker(healthCheckTick)
	defer t.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			hc.tick(ctx, now, &wg)
		}
	}
}

// tick starts the probes that are due. A provider no longer probed (its
// health_check removed, or the provider itself, by a reload) loses its
// probe state and its down flag, so its targets are not skipped forever.
func (hc *healthChecker) tick(ctx context.Context, now time.Time, wg *sync.WaitGroup) {
	s := hc.g.snap.Load()
	if s == nil {
		return
	}
	probed := make(map[string]bool, len(hc.state))
	for _, p := range s.router.Providers() {
		pc := s.cfg.ProviderByName(p.Name())
		lister, ok := p.(provider.ModelLister)
		if pc == nil || pc.HealthCheck.Interval <= 0 || !ok {
			continue
		}
		probed[p.Name()] = true
		hc.mu.Lock()
		st := hc.state[p.Name()]
		if st == nil {
			st = &probeState{}
			hc.state[p.Name()] = st
		}
		due := !st.running && !now.Before(st.next)
		if due {
			st.running, st.next = true, now.Add(pc.HealthCheck.Interval.Std())
		}
		hc.mu.Unlock()
		if !due {
			continue
		}
		timeout := pc.HealthCheck.Timeout.Std()
		if timeout <= 0 {
			timeout = healthCheckTimeout
		}
		wg.Add(1)
		go func(name string) {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, timeout)
			_, err := lister.ListModels(pctx)
			cancel()
			if ctx.Err() != nil {
				return
			}
			hc.mu.Lock()
			defer hc.mu.Unlock()
			st.running = false
			if hc.state[name] != st {
				return // no longer probed: tick cleared its flag
			}
			if err != nil {
				st.failures++
			} else {
				st.failures = 0
			}
			down := st.failures >= healthCheckFailures
			// Under hc.mu, so a tick cannot clear the flag in between.
			was := hc.g.health.ProviderDown(name)
			hc.g.health.SetProviderDown(name, down)
			if down != was {
				hc.g.log.Warn("provider health check", "provider", name, "down", down, "error", errString(err))
			}
		}(p.Name())
	}
	hc.mu.Lock()
	defer hc.mu.Unlock()
	for name := range hc.state {
		if probed[name] {
			continue
		}
		delete(hc.state, name)
		if hc.g.health.ProviderDown(name) {
			hc.g.health.SetProviderDown(name, false)
			hc.g.log.Info("provider health check stopped; its targets are routed again", "provider", name)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
