package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"sync/atomic"

	"github.com/sluicehq/sluice/internal/admin"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/limit"
	"github.com/sluicehq/sluice/internal/mock"
	"github.com/sluicehq/sluice/internal/provider"
	"github.com/sluicehq/sluice/internal/router"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/telemetry"
	"github.com/sluicehq/sluice/internal/usage"
)

// Gateway is a configured Sluice: providers, router, pipeline and HTTP
// surface. Create it with New, serve Handler, and Close it when done.
type Gateway struct {
	cfg      *config.Config
	log      *slog.Logger
	client   *http.Client
	router   atomic.Pointer[router.Router]
	pipe     Handler
	proxies  map[string]*httputil.ReverseProxy
	models   *modelCatalog
	handler  http.Handler
	mux      *http.ServeMux // the routes, inside the transport middleware
	draining atomic.Bool
	stopMock func()
	// advertised holds each provider's configured model list (the mock's
	// included), for /v1/models; providerTypes maps provider names to
	// catalog types (for prices and trace attributes).
	advertised    map[string][]string
	providerTypes map[string]string

	records  *telemetry.Pipeline // nil: no request log
	metrics  *telemetry.Metrics  // nil: metrics off
	tracer   *telemetry.Tracer   // nil: tracing off
	prices   *usage.Catalog
	payloads config.Payloads
	admin    http.Handler // nil: no admin API
	keys     *keyCache    // nil without a store: no key can be checked
	// authFails counts failed key checks per client IP; nil when
	// auth.failed_per_minute is 0.
	authFails limit.Limiter
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
}

// New builds a gateway from a validated config. With cfg.Mock.Enabled it
// starts the in-process mock provider on a loopback port and registers it
// as the provider "mock".
func New(cfg *config.Config, opts Options) (*Gateway, error) {
	g := &Gateway{cfg: cfg, log: opts.Logger, client: opts.Client, records: opts.Records, tracer: opts.Tracer,
		payloads: cfg.RequestLog.Payloads}
	if !g.tracer.Enabled() {
		g.tracer = nil // no spans: skip the calls on the request path
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.client == nil {
		g.client = provider.NewHTTPClient()
	}
	pcfgs := make([]provider.Config, 0, len(cfg.Providers)+1)
	if cfg.Mock.Enabled {
		base, stop, err := mock.Start(mock.Options{Latency: cfg.Mock.Latency.Std()})
		if err != nil {
			return nil, fmt.Errorf("gateway: start mock provider: %w", err)
		}
		g.stopMock = stop
		pcfgs = append(pcfgs, provider.Config{Name: "mock", Type: "openai", BaseURL: base + "/v1",
			APIKey: "mock", Models: []string{"echo"}})
	}
	for _, p := range cfg.Providers {
		pcfgs = append(pcfgs, provider.Config{
			Name: p.Name, Type: p.Type, BaseURL: p.BaseURL, APIKey: p.APIKey.Value(),
			APIVersion: p.APIVersion, Headers: p.Headers, Models: p.Models, Timeout: p.Timeout.Std(),
		})
	}
	g.advertised = make(map[string][]string, len(pcfgs))
	g.providerTypes = make(map[string]string, len(pcfgs))
	for _, pc := range pcfgs {
		g.advertised[pc.Name] = pc.Models
		g.providerTypes[pc.Name] = pc.Type
	}
	if cfg.Mock.Enabled {
		g.providerTypes["mock"] = "mock" // priced by the catalog's test entry
	}
	prices, err := priceCatalog(cfg.Pricing)
	if err != nil {
		g.Close()
		return nil, err
	}
	g.prices = prices
	if cfg.Metrics.Enabled {
		g.metrics = telemetry.NewMetrics(telemetry.MetricsConfig{PerKeyLabels: cfg.Metrics.PerKeyLabels})
	}
	switch {
	case opts.Store != nil:
		kc, err := newKeyCache(context.Background(), opts.Store, g.log, cfg.Auth.KeyRefresh.Std())
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("gateway: load keys: %w", err)
		}
		g.keys = kc
		if cfg.Auth.FailedPerMinute > 0 {
			g.authFails = limit.NewMemory(nil)
		}
		adm, err := admin.New(admin.Options{Logs: opts.Store, Store: opts.Store, AdminKey: opts.AdminKey,
			Resolve: kc.ResolveAdmin, KeyChanged: kc.Apply, Logger: g.log})
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("gateway: %w", err)
		}
		g.admin = adm
	case cfg.Auth.RequireKeys:
		g.Close()
		return nil, errors.New("gateway: auth.require_keys is on but there is no store to hold keys")
	}
	rt, proxies, err := buildRouter(cfg, pcfgs, g.client, g.log)
	if err != nil {
		g.Close()
		return nil, err
	}
	g.router.Store(rt)
	if g.metrics != nil {
		g.metrics.SetKnownModels(g.knownModels(rt))
		if g.records != nil {
			p := g.records
			g.metrics.RegisterQueue(
				func() int { return p.Stats().QueueDepth },
				func() uint64 { return uint64(p.Stats().Dropped) },
				func() uint64 { return uint64(p.Stats().Spooled) })
		}
	}
	g.proxies = proxies
	g.models = newModelCatalog(g)
	g.pipe = g.pipeline()
	g.handler = g.routes()
	return g, nil
}

// knownModels lists the model names clients can call: virtual models, and
// each advertised model bare and as "provider/model". Metrics label other
// names "other", so a client cannot grow the series without bound.
func (g *Gateway) knownModels(rt *router.Router) []string {
	var names []string
	for _, vm := range rt.VirtualModels() {
		names = append(names, vm.Name)
	}
	for p, ms := range g.advertised {
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

// buildRouter constructs every provider and the router over them.
func buildRouter(cfg *config.Config, pcfgs []provider.Config, client *http.Client, log *slog.Logger) (*router.Router, map[string]*httputil.ReverseProxy, error) {
	var errs []error
	byName := make(map[string]provider.Provider, len(pcfgs))
	rps := make([]router.Provider, 0, len(pcfgs))
	proxies := make(map[string]*httputil.ReverseProxy)
	for _, pc := range pcfgs {
		pc.Client = client
		p, err := newProvider(pc)
		if err != nil {
			errs = append(errs, fmt.Errorf("provider %q: %w", pc.Name, err))
			continue
		}
		byName[pc.Name] = p
		rps = append(rps, router.Provider{Provider: p, Models: pc.Models})
		if pt, ok := p.(provider.Passthrough); ok {
			proxies[pc.Name] = newPassthroughProxy(pt, client.Transport, log)
		}
	}
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("gateway: %w", errors.Join(errs...))
	}
	vms := make([]router.VirtualModel, 0, len(cfg.Models))
	for _, m := range cfg.Models {
		vm := router.VirtualModel{Name: m.Name, Strategy: m.Strategy}
		for _, t := range m.Targets {
			p := byName[t.Provider]
			if p == nil {
				return nil, nil, fmt.Errorf("gateway: model %q: unknown provider %q", m.Name, t.Provider)
			}
			vm.Targets = append(vm.Targets, router.Target{Provider: p, Model: t.Model, Weight: t.Weight})
		}
		vms = append(vms, vm)
	}
	rt, err := router.New(rps, vms)
	if err != nil {
		return nil, nil, fmt.Errorf("gateway: %w", err)
	}
	return rt, proxies, nil
}

// Handler returns the gateway's HTTP handler, transport middleware included.
func (g *Gateway) Handler() http.Handler { return g.handler }

// Router returns the current router.
func (g *Gateway) Router() *router.Router { return g.router.Load() }

// Close stops what New started (the mock provider). It does not stop a
// server serving Handler; see Serve.
func (g *Gateway) Close() {
	if g.keys != nil {
		g.keys.Close()
		g.keys = nil
	}
	if g.stopMock != nil {
		g.stopMock()
		g.stopMock = nil
	}
}
