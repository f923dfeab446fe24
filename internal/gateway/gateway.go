package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"sync/atomic"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/mock"
	"github.com/sluicehq/sluice/internal/provider"
	"github.com/sluicehq/sluice/internal/router"
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
	draining atomic.Bool
	stopMock func()
	// advertised holds each provider's configured model list (the mock's
	// included), for /v1/models.
	advertised map[string][]string
}

// Options are the gateway's dependencies beyond its config.
type Options struct {
	// Logger receives the access log and errors. Nil discards.
	Logger *slog.Logger
	// Client sends upstream requests. Nil means provider.NewHTTPClient().
	Client *http.Client
}

// New builds a gateway from a validated config. With cfg.Mock.Enabled it
// starts the in-process mock provider on a loopback port and registers it
// as the provider "mock".
func New(cfg *config.Config, opts Options) (*Gateway, error) {
	g := &Gateway{cfg: cfg, log: opts.Logger, client: opts.Client}
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
	for _, pc := range pcfgs {
		g.advertised[pc.Name] = pc.Models
	}
	rt, proxies, err := buildRouter(cfg, pcfgs, g.client)
	if err != nil {
		g.Close()
		return nil, err
	}
	g.router.Store(rt)
	g.proxies = proxies
	g.models = newModelCatalog(g)
	g.pipe = g.pipeline()
	g.handler = g.routes()
	return g, nil
}

// buildRouter constructs every provider and the router over them.
func buildRouter(cfg *config.Config, pcfgs []provider.Config, client *http.Client) (*router.Router, map[string]*httputil.ReverseProxy, error) {
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
			proxies[pc.Name] = newPassthroughProxy(pt, client.Transport)
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
	if g.stopMock != nil {
		g.stopMock()
		g.stopMock = nil
	}
}
