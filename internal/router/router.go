package router

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
)

// Target is one provider model a request can be sent to or, inside a
// VirtualModel with Virtual set, another virtual model.
type Target struct {
	Provider provider.Provider
	// Model is the provider's own model name.
	Model string
	// Weight is the share of traffic under the weighted strategy; 0 keeps
	// the target as a fallback only.
	Weight int
	// Virtual names another virtual model whose candidates take this
	// target's place (Provider is then nil).
	Virtual string
	// Region is where the target runs ("eu", "us"); "" is untagged, which
	// a caller pinned to regions never reaches.
	Region string
	// ContextWindow is the model's context window in tokens; 0 unknown.
	ContextWindow int
	// MaxTokens caps the answer's tokens sent to this target; 0 none.
	MaxTokens int
	// Overrides are the target's own settings beyond its model's; nil
	// (most targets) for none. Shared between plans: never modify them.
	Overrides *Overrides

	h     *TargetHealth // nil: untracked
	price int64         // blended micro-USD per 1M tokens; math.MaxInt64 unknown
	// adopt is set on a direct target that is not tracked yet: Run starts
	// tracking it once it answers, so names that fail never take room.
	adopt bool
}

// Overrides are settings of one target that replace its model's. They sit
// behind one pointer so that targets without any stay small.
type Overrides struct {
	// Retry, when not nil, replaces the policy's retry settings for the
	// target (except those the request fixed; see Policy.Fixed).
	Retry *Retry
	// Patch is the JSON merge patch applied to the upstream body sent to
	// the target (llm.Request.Patch); nil for none.
	Patch json.RawMessage
}

// String is "provider/model" (or the virtual model's name).
func (t Target) String() string {
	if t.Provider == nil {
		return t.Virtual
	}
	return t.Provider.Name() + "/" + t.Model
}

// Health returns the target's live state; nil when it is not tracked.
func (t Target) Health() *TargetHealth { return t.h }

// Strategies for ordering a virtual model's targets.
const (
	StrategyWeighted     = "weighted"      // by weight, drawn per request
	StrategyFallback     = "fallback"      // in the configured order
	StrategyLeastLatency = "least-latency" // fastest decaying average first, with exploration
	StrategyLeastBusy    = "least-busy"    // fewest requests in flight first
	StrategyCost         = "cost"          // cheapest known price first
)

// Strategies lists every strategy name.
var Strategies = []string{StrategyWeighted, StrategyFallback, StrategyLeastLatency, StrategyLeastBusy, StrategyCost}

// VirtualModel is a configured model name with its targets.
type VirtualModel struct {
	Name     string
	Strategy string // "" means weighted
	Targets  []Target
	// Policy runs requests for this model (for a nested model, the
	// outermost model's policy applies).
	Policy Policy

	nested bool // some target is Virtual
}

// Provider is a named provider with the models its config advertises.
type Provider struct {
	Provider provider.Provider
	Models   []string
	// Region tags the provider's targets that have none of their own.
	Region string
}

// Config is what New builds a router from.
type Config struct {
	// Providers in config order.
	Providers []Provider
	// Models reference providers by value and each other by name.
	Models []VirtualModel
	// Direct is the policy for "provider/model" and bare advertised names.
	Direct Policy
	// Health keeps target state across routers; nil makes a private one
	// with the breaker off.
	Health *Health
	// Price returns a model's blended price (input + output, micro-USD
	// per 1M tokens) for the cost strategy; nil or !ok means unknown.
	Price func(provider, model string) (int64, bool)
}

// Router resolves model names. It is immutable after New and safe for
// concurrent use; a config reload builds a new Router (over the same
// Health).
type Router struct {
	providers map[string]provider.Provider
	regions   map[string]string // provider name → region
	order     []string          // provider names in config order
	models    map[string]*VirtualModel
	names     []string // virtual model names in config order
	// advertised maps a bare upstream model name to the first provider that
	// lists it in its config, so "gpt-4o-mini" works without a prefix.
	advertised map[string]provider.Provider
	// offered holds "provider/model" for every model a provider's config
	// lists: direct targets the config knows, tracked from the start.
	offered map[string]bool
	direct  Policy
	health  *Health
	// intN draws weighted choices and float64 exploration; rand's unless a
	// test replaces them.
	intN    func(n int) int
	float64 func() float64
	sleep   func(ctx context.Context, d time.Duration) bool
}

// New builds a router. Config validation guarantees references resolve;
// New checks again (and for nesting cycles) and fails rather than route
// to nothing.
func New(cfg Config) (*Router, error) {
	r := &Router{
		providers:  make(map[string]provider.Provider, len(cfg.Providers)),
		regions:    make(map[string]string, len(cfg.Providers)),
		models:     make(map[string]*VirtualModel, len(cfg.Models)),
		advertised: make(map[string]provider.Provider),
		offered:    make(map[string]bool),
		direct:     cfg.Direct,
		health:     cfg.Health,
		intN:       rand.IntN,
		float64:    rand.Float64,
		sleep:      sleepCtx,
	}
	if r.health == nil {
		r.health = NewHealth(HealthConfig{}, nil)
	}
	for _, p := range cfg.Providers {
		name := p.Provider.Name()
		if _, dup := r.providers[name]; dup {
			return nil, fmt.Errorf("router: duplicate provider %q", name)
		}
		r.providers[name] = p.Provider
		r.regions[name] = p.Region
		r.order = append(r.order, name)
		for _, m := range p.Models {
			r.offered[name+"/"+m] = true
			if _, ok := r.advertised[m]; !ok {
				r.advertised[m] = p.Provider
			}
		}
	}
	for i := range cfg.Models {
		m := cfg.Models[i]
		if _, dup := r.models[m.Name]; dup {
			return nil, fmt.Errorf("router: duplicate model %q", m.Name)
		}
		if len(m.Targets) == 0 {
			return nil, fmt.Errorf("router: model %q has no targets", m.Name)
		}
		if m.Strategy == "" {
			m.Strategy = StrategyWeighted
		}
		if !validStrategy(m.Strategy) {
			return nil, fmt.Errorf("router: model %q: unknown strategy %q", m.Name, m.Strategy)
		}
		m.Targets = append([]Target(nil), m.Targets...)
		for j := range m.Targets {
			t := &m.Targets[j]
			switch {
			case t.Virtual != "":
				if t.Provider != nil {
					return nil, fmt.Errorf("router: model %q: target %q names both a provider and a virtual model", m.Name, t.Virtual)
				}
				m.nested = true
			case t.Provider == nil:
				return nil, fmt.Errorf("router: model %q has a target without a provider", m.Name)
			default:
				r.track(t)
				if cfg.Price != nil {
					if p, ok := cfg.Price(t.Provider.Name(), t.Model); ok {
						t.price = p
					}
				}
			}
		}
		r.models[m.Name] = &m
		r.names = append(r.names, m.Name)
	}
	for _, name := range r.names {
		if err := r.checkNesting(name, nil); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// MaxNesting is how many levels of virtual models may nest below the one
// a client names (config validation and New refuse deeper chains).
const MaxNesting = 8

// MaxModelName is the longest model name, in bytes, a request may carry.
const MaxModelName = 256

// CheckModelName returns the 400 for a model name that is missing or
// longer than MaxModelName; nil when it is fine.
func CheckModelName(model string) error {
	if model == "" {
		return llm.BadRequest("model", "you must provide a model parameter")
	}
	if len(model) > MaxModelName {
		return llm.BadRequest("model", "invalid value for 'model': expected at most %d bytes, got %d", MaxModelName, len(model))
	}
	return nil
}

// track fills a provider target's region, health and default price.
func (r *Router) track(t *Target) {
	if t.Region == "" {
		t.Region = r.regions[t.Provider.Name()]
	}
	t.h = r.health.Target(t.Provider.Name(), t.Model, true)
	t.price = math.MaxInt64
}

// checkNesting reports a virtual target naming an unknown model, a cycle
// through name, or nesting deeper than MaxNesting; path is the chain of
// models that led here.
func (r *Router) checkNesting(name string, path []string) error {
	for _, p := range path {
		if p == name {
			return fmt.Errorf("router: model %q: nesting cycle %s", path[0], strings.Join(append(path, name), " → "))
		}
	}
	if len(path) > MaxNesting {
		return fmt.Errorf("router: model %q: virtual models nest more than %d deep: %s", path[0], MaxNesting,
			strings.Join(append(path, name), " → "))
	}
	m := r.models[name]
	path = append(path, name)
	for _, t := range m.Targets {
		if t.Virtual == "" {
			continue
		}
		if _, ok := r.models[t.Virtual]; !ok {
			return fmt.Errorf("router: model %q: target names unknown virtual model %q", name, t.Virtual)
		}
		if err := r.checkNesting(t.Virtual, path); err != nil {
			return err
		}
	}
	return nil
}

func validStrategy(s string) bool {
	for _, v := range Strategies {
		if s == v {
			return true
		}
	}
	return false
}

// Health returns the registry the router's targets report to.
func (r *Router) Health() *Health { return r.health }

// Providers returns the providers in config order.
func (r *Router) Providers() []provider.Provider {
	out := make([]provider.Provider, len(r.order))
	for i, n := range r.order {
		out[i] = r.providers[n]
	}
	return out
}

// ProviderRegion returns the region a provider is tagged with ("" none).
func (r *Router) ProviderRegion(name string) string { return r.regions[name] }

// VirtualModels returns the virtual models in config order.
func (r *Router) VirtualModels() []*VirtualModel {
	out := make([]*VirtualModel, len(r.names))
	for i, n := range r.names {
		out[i] = r.models[n]
	}
	return out
}

// Resolve returns the candidates for model, best first, nested models
// expanded, regardless of health and regions. See Plan.
func (r *Router) Resolve(model string) ([]Target, error) {
	p, err := r.Plan(nil, Request{Model: model})
	return p.Candidates, err
}

// RegionPolicy says which regions a caller may reach (*auth.Principal
// implements it).
type RegionPolicy interface {
	AllowsRegion(region string) bool
}

// Request is what Plan needs to know about a request.
type Request struct {
	Model  string
	Stream bool
	// Regions restricts the candidates; nil allows every region.
	Regions RegionPolicy
}

// Plan is how one request will be run: its candidates in order and the
// policy.
type Plan struct {
	Candidates []Target
	// Virtual is the virtual model the request named; nil for a
	// "provider/model" or advertised bare name.
	Virtual *VirtualModel
	Policy  Policy
	Stream  bool
	// PromptTokens (an estimate) and MaxTokens (0: none asked) size the
	// request for the context-window pre-skip: Run skips a candidate whose
	// known ContextWindow is smaller than PromptTokens plus its max tokens
	// (the target's cap applied) while another candidate fits; when none
	// fits, only the largest windows are tried. PromptTokens 0: no
	// pre-skip. See Windows.
	PromptTokens, MaxTokens int
}

// Windows reports whether some candidate has a known context window, that
// is whether PromptTokens is worth estimating.
func (p *Plan) Windows() bool {
	for i := range p.Candidates {
		if p.Candidates[i].ContextWindow > 0 {
			return true
		}
	}
	return false
}

// Plan orders the candidates for req, appending them to dst[:0] (pass a
// reused slice to avoid allocating). The order is drawn afresh for each
// call by the model's strategy; open breakers are skipped later, by Run.
// An unknown model is a 404 *llm.Error with code model_not_found; a
// caller whose regions exclude every candidate gets a 403
// region_not_allowed.
//
// Names resolve in this order: a virtual model; "provider/model" for a
// configured provider (the model part may itself contain slashes, as
// OpenRouter's do); a bare name that a provider's config advertises.
func (r *Router) Plan(dst []Target, req Request) (Plan, error) {
	dst = dst[:0]
	p := Plan{Stream: req.Stream}
	model := req.Model
	if err := CheckModelName(model); err != nil {
		return p, err
	}
	if m, ok := r.models[model]; ok {
		p.Virtual, p.Policy = m, m.Policy
		dst = r.appendModel(dst, m, req.Stream, 0)
	} else {
		var pr provider.Provider
		upstream := model
		if name, up, ok := strings.Cut(model, "/"); ok && up != "" {
			pr, upstream = r.providers[name], up
		}
		if pr == nil {
			pr, upstream = r.advertised[model], model
		}
		if pr == nil {
			return p, llm.ModelNotFound(model)
		}
		p.Policy = r.direct
		t := Target{Provider: pr, Model: upstream, Weight: 1, Region: r.regions[pr.Name()], price: math.MaxInt64}
		r.directHealth(&t)
		dst = append(dst, t)
	}
	if req.Regions != nil {
		n := 0
		for _, t := range dst {
			if req.Regions.AllowsRegion(t.Region) {
				dst[n] = t
				n++
			}
		}
		if n == 0 {
			p.Candidates = dst[:0]
			return p, RegionNotAllowed(model)
		}
		dst = dst[:n]
	}
	p.Candidates = dst
	return p, nil
}

// directHealth finds the health of a direct target: tracked already, or
// tracked now because its provider's config lists the model; otherwise the
// target is marked for adoption on its first answer (see Run), so a name a
// client made up takes no room unless the provider serves it.
func (r *Router) directHealth(t *Target) {
	name := t.Provider.Name()
	if t.h = r.health.lookup(name, t.Model); t.h != nil {
		return
	}
	if r.offered[name+"/"+t.Model] {
		t.h = r.health.Target(name, t.Model, true)
		return
	}
	t.adopt = true
}

// RegionNotAllowed is the 403 for a request none of whose candidates is in
// a region the caller may reach.
func RegionNotAllowed(model string) *llm.Error {
	return &llm.Error{Status: http.StatusForbidden, Type: llm.TypePermission, Code: "region_not_allowed",
		Param: "model", Fault: llm.FaultPolicy,
		Message: fmt.Sprintf("no target of model %q is in a region this key may use", model)}
}

// appendModel appends m's targets to dst in m's strategy's order,
// expanding nested models in place and dropping repeats. Past MaxNesting
// levels (New refuses such configs; this is a second guard) virtual
// targets are dropped rather than left without a provider.
func (r *Router) appendModel(dst []Target, m *VirtualModel, stream bool, depth int) []Target {
	start := len(dst)
	dst = append(dst, m.Targets...)
	r.arrange(dst[start:], m.Strategy, stream)
	if !m.nested {
		return dst
	}
	ordered := append([]Target(nil), dst[start:]...)
	dst = dst[:start]
	for _, t := range ordered {
		if t.Virtual == "" {
			if t.Provider != nil && !containsTarget(dst, t) {
				dst = append(dst, t)
			}
			continue
		}
		vm := r.models[t.Virtual]
		if vm == nil || depth >= MaxNesting {
			continue
		}
		from := len(dst)
		dst = r.appendModel(dst, vm, stream, depth+1)
		// Drop what an earlier branch already placed.
		n := from
		for _, c := range dst[from:] {
			if !containsTarget(dst[:n], c) {
				dst[n] = c
				n++
			}
		}
		dst = dst[:n]
	}
	return dst
}

func containsTarget(ts []Target, t Target) bool {
	for i := range ts {
		if ts[i].Model == t.Model && ts[i].Provider.Name() == t.Provider.Name() {
			return true
		}
	}
	return false
}
