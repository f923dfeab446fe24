package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http/httputil"
	"reflect"
	"strings"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/provider"
	"github.com/sluicehq/sluice/internal/router"
	"github.com/sluicehq/sluice/internal/usage"
)

// snapshot is everything a config reload replaces, built whole and then
// swapped in with one atomic store. It is immutable once published: a
// request pins the snapshot it started with (requestInfo.snap) and
// finishes on it, whatever reloads happen meanwhile.
type snapshot struct {
	cfg    *config.Config
	router *router.Router
	// routes are the conditional routes; nil when none are configured.
	routes *routeTable
	prices *usage.Catalog
	// advertised holds each provider's configured model list (the mock's
	// included), for /v1/models; providerTypes maps provider names to
	// catalog types (for prices and trace attributes).
	advertised    map[string][]string
	providerTypes map[string]string
	proxies       map[string]*httputil.ReverseProxy
	models        *modelCatalog
	// cacheModels and cacheRoutes are the models' and routes' cache
	// settings by name (nil when none has any).
	cacheModels, cacheRoutes map[string]*config.CacheSettings
	// guards are the compiled guardrails; nil when none are configured.
	guards *guardPolicy
}

// current returns the snapshot new requests use.
func (g *Gateway) current() *snapshot { return g.snap.Load() }

// snapFor returns the snapshot the request of ctx pinned, or the current
// one for a request that pinned none (or for a context of no request).
func (g *Gateway) snapFor(ctx context.Context) *snapshot {
	if ri, ok := ctx.Value(infoKey{}).(*requestInfo); ok && ri.snap != nil {
		return ri.snap
	}
	return g.snap.Load()
}

// buildSnapshot builds the providers, router, routes, prices and model
// catalog of cfg. It starts nothing and changes nothing in g, so a failure
// leaves the running config untouched.
func (g *Gateway) buildSnapshot(cfg *config.Config) (*snapshot, error) {
	if cfg.Mock.Enabled && g.mockBase == "" {
		return nil, errors.New("gateway: mock.enabled was switched on; restart to start the mock provider")
	}
	pcfgs := make([]provider.Config, 0, len(cfg.Providers)+1)
	if g.mockBase != "" {
		pcfgs = append(pcfgs, provider.Config{Name: "mock", Type: "openai", BaseURL: g.mockBase + "/v1",
			APIKey: "mock", Models: []string{"echo"}})
	}
	for _, p := range cfg.Providers {
		pcfgs = append(pcfgs, provider.Config{
			Name: p.Name, Type: p.Type, BaseURL: p.BaseURL, APIKey: p.APIKey.Value(),
			APIVersion: p.APIVersion, Headers: p.Headers, Models: p.Models, Timeout: p.Timeout.Std(),
		})
	}
	s := &snapshot{cfg: cfg, advertised: make(map[string][]string, len(pcfgs)),
		providerTypes: make(map[string]string, len(pcfgs))}
	for _, pc := range pcfgs {
		s.advertised[pc.Name] = pc.Models
		s.providerTypes[pc.Name] = pc.Type
	}
	if g.mockBase != "" {
		s.providerTypes["mock"] = "mock" // priced by the catalog's test entry
	}
	var err error
	if s.prices, err = priceCatalog(cfg.Pricing); err != nil {
		return nil, err
	}
	g.attachCredentials(cfg, pcfgs) // vault keys (credentials.go)
	if s.router, s.proxies, err = g.buildRouter(cfg, pcfgs, g.client, g.log); err != nil {
		return nil, err
	}
	if s.routes, err = newRouteTable(cfg.Routes, s.router); err != nil {
		return nil, err
	}
	s.models = newModelCatalog(g, s)
	s.cacheModels, s.cacheRoutes = cacheSettings(cfg)
	if s.guards, err = newGuardPolicy(cfg, g.askModel); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload switches the gateway to cfg, a config that has passed validation
// (config.Load). Providers, virtual models, routes, mirroring and prices
// change at once for new requests; requests in flight finish on the
// config they started with. The other sections (listener, store, auth,
// limits, request log, metrics, tracing, mock, log, …) are read only at
// start and keep their running values: Reload logs a warning naming each
// one that differs from them. On error nothing changes and the old config
// keeps serving.
func (g *Gateway) Reload(cfg *config.Config) error {
	g.reloadMu.Lock()
	defer g.reloadMu.Unlock()
	s, err := g.buildSnapshot(cfg)
	if err != nil {
		return err
	}
	g.snap.Store(s)
	// Only now: a rejected reload must not change the breakers either.
	g.health.Configure(healthConfig(&cfg.Routing))
	if g.metrics != nil {
		g.metrics.SetKnownModels(g.knownModels(s))
	}
	if g.cache == nil && cacheConfigured(cfg) || g.cache != nil && g.cache.index == nil && semanticConfigured(cfg) {
		g.log.Warn("config reloaded; caching (or the semantic cache) was switched on for a model or route, " +
			"which takes a restart when the gateway started without it")
	}
	if changed := restartOnly(g.cfg, cfg); len(changed) > 0 {
		g.log.Warn("config reloaded; these settings apply only after a restart and keep their running values",
			"sections", strings.Join(changed, ","))
	}
	g.log.Info("config reloaded", "config", cfg.Path, "providers", len(s.providerTypes),
		"models", len(s.router.VirtualModels()), "routes", s.routes.len())
	return nil
}

// reloadable are the config sections a reload applies (they live in the
// snapshot). Every other section is read from the config the gateway
// started with, so a change to it needs a restart.
var reloadable = map[string]bool{"providers": true, "models": true, "routes": true, "routing": true, "pricing": true,
	"guardrails": true}

// restartOnly names the config sections that differ between a and b but
// are read only when the gateway starts, in config order.
func restartOnly(a, b *config.Config) []string {
	var out []string
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	for i := range va.NumField() {
		f := va.Type().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "" || name == "-" || reloadable[name] {
			continue
		}
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			out = append(out, name)
		}
	}
	return out
}

// ReloadFile loads the config file at path and applies it with Reload;
// adjust, if not nil, edits the loaded config first (command-line
// overrides). A file that does not load or apply is rejected with the
// reason, and the running config keeps serving.
func (g *Gateway) ReloadFile(path string, adjust func(*config.Config)) error {
	cfg, err := config.Load(path)
	if err != nil {
		return fmt.Errorf("gateway: reload rejected, the running config stays: %w", err)
	}
	if adjust != nil {
		adjust(cfg)
	}
	if err := g.Reload(cfg); err != nil {
		return fmt.Errorf("gateway: reload rejected, the running config stays: %w", err)
	}
	return nil
}
