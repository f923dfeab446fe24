package gateway

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/router"
	"github.com/sluicehq/sluice/internal/telemetry"
)

// TestRejectedReloadKeepsBreakerSettings: a reload that fails while its
// router is built must not change the breakers of the running config.
func TestRejectedReloadKeepsBreakerSettings(t *testing.T) {
	g, _, _ := newTestGateway(t, "routing: { breaker: { consecutive_failures: 3 } }\n")
	if n := g.health.Config().Breaker.ConsecutiveFailures; n != 3 {
		t.Fatalf("consecutive_failures %d at start, want 3", n)
	}
	parse := func(yaml string) *config.Config {
		t.Helper()
		cfg, err := config.Parse([]byte("server: { data_dir: \""+t.TempDir()+"\" }\nrequest_log: { enabled: false }\nmock: { enabled: true }\n"+
			"models:\n  - name: chat-default\n    targets: [ { provider: mock, model: echo } ]\n"+yaml), "reload.yaml")
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	bad := parse("routing: { breaker: { consecutive_failures: 1 } }\n")
	// Past validation, as a bug or a hand-built config might be: the
	// router refuses a duplicate model.
	bad.Models = append(bad.Models, bad.Models[0])
	if err := g.Reload(bad); err == nil {
		t.Fatal("a reload with a duplicate model was applied")
	}
	if n := g.health.Config().Breaker.ConsecutiveFailures; n != 3 {
		t.Errorf("after a rejected reload consecutive_failures is %d, want 3 still", n)
	}
	if err := g.Reload(parse("routing: { breaker: { consecutive_failures: 1 } }\n")); err != nil {
		t.Fatal(err)
	}
	if n := g.health.Config().Breaker.ConsecutiveFailures; n != 1 {
		t.Errorf("after a good reload consecutive_failures is %d, want 1", n)
	}
}

// TestHealthCheckTickClearsUnprobedProviders: a provider whose health
// check was removed (or that a reload removed) must not stay down.
func TestHealthCheckTickClearsUnprobedProviders(t *testing.T) {
	g, _, _ := newTestGateway(t, "")
	hc := &healthChecker{g: g, state: map[string]*probeState{
		"mock": {failures: healthCheckFailures}, // configured, but no health_check
		"gone": {failures: healthCheckFailures}, // removed by a reload
	}}
	g.health.SetProviderDown("mock", true)
	g.health.SetProviderDown("gone", true)
	var wg sync.WaitGroup
	hc.tick(context.Background(), time.Now(), &wg)
	wg.Wait()
	for _, name := range []string{"mock", "gone"} {
		if g.health.ProviderDown(name) {
			t.Errorf("%s is still down though nothing probes it", name)
		}
	}
	hc.mu.Lock()
	defer hc.mu.Unlock()
	if len(hc.state) != 0 {
		t.Errorf("probe state kept for unprobed providers: %v", hc.state)
	}
}

// TestRoutingGaugesFoldDirectTargets: targets in no config never become
// metric labels; they are one "other" series per provider.
func TestRoutingGaugesFoldDirectTargets(t *testing.T) {
	g, _, _ := newTestGateway(t, "")
	g.health.Target("mock", "echo", true)
	g.health.Target("mock", "other", true) // a configured model that happens to be named "other"
	for _, m := range []string{"made-up-1", "made-up-2"} {
		g.health.Target("mock", m, false)
	}
	var got []string
	for _, tg := range g.targetGauges() {
		got = append(got, tg.Provider+"/"+tg.Model)
	}
	slices.Sort(got)
	if diff := cmp.Diff([]string{"mock/echo", "mock/other"}, got); diff != "" {
		t.Errorf("gauge labels (-want +got):\n%s", diff)
	}
	// The whole scrape stays valid (no label set twice).
	m := telemetry.NewMetrics(telemetry.MetricsConfig{})
	m.RegisterTargets(g.targetGauges)
	if _, err := m.Registry().Gather(); err != nil {
		t.Errorf("gather: %v", err)
	}
}

// TestRoutingNestingLimitsAgree: config validation refuses exactly what
// the router cannot expand.
func TestRoutingNestingLimitsAgree(t *testing.T) {
	if config.MaxNesting != router.MaxNesting {
		t.Errorf("config.MaxNesting %d, router.MaxNesting %d", config.MaxNesting, router.MaxNesting)
	}
}
