package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/admin"
	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/budget"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/limit"
	"github.com/sluicehq/sluice/internal/mock"
	"github.com/sluicehq/sluice/internal/provider"
	"github.com/sluicehq/sluice/internal/router"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/telemetry"
	"github.com/sluicehq/sluice/internal/usage"
	"github.com/sluicehq/sluice/internal/vault"
)

// Gateway is a configured Sluice: providers, router, pipeline and HTTP
// surface. Create it with New, serve Handler, and Close it when done.
type Gateway struct {
	// cfg is the config the gateway started with: the settings only a
	// restart changes. What a reload changes lives in snap.
	cfg *config.Config
	log *slog.Logger
	// snap is the current config snapshot (router, routes, prices, model
	// catalog, passthrough proxies); Reload swaps it. See reload.go.
	snap     atomic.Pointer[snapshot]
	reloadMu sync.Mutex // one Reload at a time
	client   *http.Client
	pipe     Handler
	// mirrorPipe runs shadow requests (no routes, no policy stages).
	mirrorPipe Handler
	mirrors    *mirrors
	handler    http.Handler
	mux        *http.ServeMux // the routes, inside the transport middleware
	draining   atomic.Bool
	stopMock   func()
	// mockBase is the in-process mock's base URL; "" when mock is off.
	mockBase string

	records  *telemetry.Pipeline // nil: no request log
	metrics  *telemetry.Metrics  // nil: metrics off
	tracer   *telemetry.Tracer   // nil: tracing off
	payloads config.Payloads
	admin    http.Handler // nil: no admin API
	keys     *keyCache    // nil without a store: no key can be checked
	// authFails counts failed key checks per client IP; nil when
	// auth.failed_per_minute is 0.
	authFails limit.Limiter
	// events writes alert events (g.event); nil without a store.
	events *eventSink
	// limits enforces the rate limits (limits.go); never nil once New
	// has built the pipeline.
	limits *rateLimits
	// budgets tracks spend against key, team and tenant budgets (see
	// budget.go); nil without a store. stopBudgets writes the rest.
	budgets     *budget.Tracker
	stopBudgets func()
	// jwt checks JWT credentials (auth.jwt); nil when not configured.
	jwt *auth.JWTValidator
	// spike throttles traffic spikes (auth.spike); nil when off.
	spike *spikeGuard
	// creds holds the vault's provider keys (credentials.go); nil
	// without a store.
	creds *credPool
	// health is the live state of every upstream target (breakers,
	// latency, in-flight); it outlives reloads.
	health *router.Health
	// checks runs the providers' active health checks; nil before New
	// has built the first snapshot.
	checks *healthChecker
	// cache is the response cache (cache.go); nil when no model or
	// route has caching on.
	cache *responseCache
	// node names this replica in records, log lines and /readyz
	// (cluster.node_id, else the host name).
	node string
	// prop carries admin changes to and from the other replicas
	// (propagate.go); nil without a store.
	prop *propagator
	// storeProbe pings the store for /readyz (ready.go); it holds a nil
	// DB without a store.
	storeProbe *storeProbe
}

// Options are the gateway's dependencies beyond its config.
type Options struct {
	// Logger receives the access log and errors. Nil discards.
	Logger *slog.Logger
	// Client sends upstream requests. Nil means provider.NewHTTPClient().
	Client *http.Client
	// Records receives one record per LLM request. Nil keeps none.
	Records *telemetry.Pipeline
	// Store holds gateway keys, tenants and teams, and serves the admin
	// API's log and usage queries. Nil leaves the admin API off, and then
	// auth.require_keys must be off (no key could be checked).
	Store *store.DB
	// AdminKey is the bootstrap admin token (SLUICE_ADMIN_KEY); with Logs
	// set and no key, the admin API refuses every request.
	AdminKey string
	// Tracer makes a span per request and upstream attempt. Nil: none.
	Tracer *telemetry.Tracer
	// Now is the clock of budget periods (which day, week or month a
	// request's spend belongs to). Nil means time.Now.
	Now func() time.Time
	// Vault opens the provider keys stored through /admin/v1/credentials
	// and seals new ones; it holds SLUICE_MASTER_KEY. Nil: stored keys
	// are not used and the admin API refuses to store more.
	Vault *vault.Vault
}

// New builds a gateway from a validated config. With cfg.Mock.Enabled it
// starts the in-process mock provider on a loopback port and registers it
// as the provider "mock".
func New(cfg *config.Config, opts Options) (*Gateway, error) {
	g := &Gateway{cfg: cfg, log: opts.Logger, client: opts.Client, records: opts.Records, tracer: opts.Tracer,
		payloads: cfg.RequestLog.Payloads, node: cfg.Cluster.NodeName(), storeProbe: newStoreProbe(opts.Store)}
	if !g.tracer.Enabled() {
		g.tracer = nil // no spans: skip the calls on the request path
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.client == nil {
		g.client = provider.NewHTTPClient()
	}
	g.mirrors = newMirrors()
	g.health = router.NewHealth(healthConfig(&cfg.Routing), nil)
	if cfg.Mock.Enabled {
		base, stop, err := mock.Start(mock.Options{Latency: cfg.Mock.Latency.Std()})
		if err != nil {
			return nil, fmt.Errorf("gateway: start mock provider: %w", err)
		}
		g.stopMock, g.mockBase = stop, base
	}
	if cfg.Metrics.Enabled {
		g.metrics = telemetry.NewMetrics(telemetry.MetricsConfig{PerKeyLabels: cfg.Metrics.PerKeyLabels})
		g.metrics.RegisterTargets(g.targetGauges)
	}
	if err := g.buildAuth(cfg); err != nil {
		g.Close()
		return nil, err
	}
	var err error
	if g.cache, err = newResponseCache(cfg, g.metrics, g.log); err != nil {
		g.Close()
		return nil, err
	}
	switch {
	case opts.Store != nil:
		kc, err := newKeyCache(context.Background(), opts.Store, g.log, cfg.Auth.KeyRefresh.Std())
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("gateway: load keys: %w", err)
		}
		g.keys = kc
		g.events = newEventSink(opts.Store, g.log)
		if err := g.startBudgets(opts.Store, opts.Now); err != nil {
			g.Close()
			return nil, err
		}
		g.creds, err = newCredPool(context.Background(), opts.Store, opts.Vault, g.log, cfg.Auth.KeyRefresh.Std(), g.event)
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("gateway: load provider keys: %w", err)
		}
		g.prop = startPropagation(opts.Store, kc, g.creds, g.log)
		adm, err := admin.New(admin.Options{Logs: opts.Store, Store: opts.Store, AdminKey: opts.AdminKey,
			Resolve: g.resolveAdmin, KeyChanged: g.onKeyChanged, Health: g.providerHealth, ScopesChanged: g.onScopesChanged,
			Logger: g.log, Vault: opts.Vault, ProviderNames: g.providerNames, CredentialChanged: g.onCredentialChanged,
			Cache: g.cachePurger()})
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("gateway: %w", err)
		}
		g.admin = g.guardAdmin(adm)
	case cfg.Auth.RequireKeys && g.jwt == nil:
		g.Close()
		return nil, errors.New("gateway: auth.require_keys is on but there is no store to hold keys")
	}
	s, err := g.buildSnapshot(cfg)
	if err != nil {
		g.Close()
		return nil, err
	}
	g.snap.Store(s)
	if g.metrics != nil {
		g.metrics.SetKnownModels(g.knownModels(s))
		g.mirrors.register(g.metrics.Registry())
		if g.events != nil {
			g.events.register(g.metrics.Registry())
		}
		if g.spike != nil {
			g.spike.register(g.metrics.Registry())
		}
		if g.records != nil {
			p := g.records
			g.metrics.RegisterQueue(
				func() int { return p.Stats().QueueDepth },
				func() uint64 { return uint64(p.Stats().Dropped) },
				func() uint64 { return uint64(p.Stats().Spooled) })
		}
	}
	if g.limits, err = newRateLimits(cfg.Limits, g.metrics, g.log); err != nil {
		g.Close()
		return nil, err
	}
	g.pipe = g.pipeline()
	g.mirrorPipe = chain(HandlerFunc(g.dispatch), usageStage)
	g.handler = g.routes()
	g.checks = startHealthChecks(g)
	return g, nil
}

// knownModels lists the model names clients can call: virtual models, and
// each advertised model bare and as "provider/model". Metrics label other
// names "other", so a client cannot grow the series without bound.
func (g *Gateway) knownModels(s *snapshot) []string {
	var names []string
	for _, vm := range s.router.VirtualModels() {
		names = append(names, vm.Name)
	}
	for p, ms := range s.advertised {
		for _, m := range ms {
			names = append(names, m, p+"/"+m)
		}
	}
	return names
}

// priceCatalog is the built-in catalog with the config's prices over it.
func priceCatalog(ps []config.Price) (*usage.Catalog, error) {
	over := make(map[string]usage.Price, len(ps))
	for _, p := range ps {
		var pr usage.Price
		var err error
		for _, f := range []struct {
			dst *int64
			s   string
		}{{&pr.Input, p.Input}, {&pr.Output, p.Output}, {&pr.CachedInput, p.CachedInput},
			{&pr.CacheWrite, p.CacheWrite}, {&pr.PerRequest, p.PerRequest}} {
			if f.s == "" {
				continue
			}
			if *f.dst, err = usage.ParseUSD(f.s); err != nil {
				return nil, fmt.Errorf("gateway: pricing %q: %w", p.Model, err)
			}
		}
		over[p.Model] = pr
	}
	return usage.Default().WithOverrides(over), nil
}

// Handler returns the gateway's HTTP handler, transport middleware included.
func (g *Gateway) Handler() http.Handler { return g.handler }

// Router returns the current router (Reload replaces it).
func (g *Gateway) Router() *router.Router { return g.snap.Load().router }

// Close stops what New started (the mock provider). It does not stop a
// server serving Handler; see Serve.
func (g *Gateway) Close() {
	g.prop.close() // first: it kicks the key cache and the credential pool
	g.prop = nil
	g.checks.stop()
	g.checks = nil
	g.mirrors.close()
	g.limits.close()
	g.cache.close()
	g.closeBudgets() // before the events: its last sync may alert
	g.creds.Close()
	if g.keys != nil {
		g.keys.Close()
		g.keys = nil
	}
	g.events.close() // last: what closes before it may still record events
	if g.stopMock != nil {
		g.stopMock()
		g.stopMock = nil
	}
}
