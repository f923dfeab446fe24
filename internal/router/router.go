package router

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
)

// Strategies for choosing among a virtual model's targets.
const (
	StrategyWeighted = "weighted" // pick by weight; the rest follow in weighted order
	StrategyFallback = "fallback" // in the configured order
)

// Target is one provider model a request can be sent to.
type Target struct {
	Provider provider.Provider
	// Model is the provider's own model name.
	Model  string
	Weight int
}

// String is "provider/model".
func (t Target) String() string { return t.Provider.Name() + "/" + t.Model }

// VirtualModel is a configured model name with its targets.
type VirtualModel struct {
	Name     string
	Strategy string
	Targets  []Target
}

// Router resolves model names. It is immutable after New and safe for
// concurrent use; a config reload builds a new Router.
type Router struct {
	providers map[string]provider.Provider
	order     []string // provider names in config order
	models    map[string]*VirtualModel
	names     []string // virtual model names in config order
	// advertised maps a bare upstream model name to the first provider that
	// lists it in its config, so "gpt-4o-mini" works without a prefix.
	advertised map[string]provider.Provider
	// intN draws weighted choices; rand.IntN unless a test replaces it.
	intN func(n int) int
}

// Provider is a named provider with the models its config advertises.
type Provider struct {
	Provider provider.Provider
	Models   []string
}

// New builds a router. providers are in config order; models reference them
// by name (config validation guarantees the references resolve; New checks
// again and fails rather than route to nothing).
func New(providers []Provider, models []VirtualModel) (*Router, error) {
	r := &Router{
		providers:  make(map[string]provider.Provider, len(providers)),
		models:     make(map[string]*VirtualModel, len(models)),
		advertised: make(map[string]provider.Provider),
		intN:       rand.IntN,
	}
	for _, p := range providers {
		name := p.Provider.Name()
		if _, dup := r.providers[name]; dup {
			return nil, fmt.Errorf("router: duplicate provider %q", name)
		}
		r.providers[name] = p.Provider
		r.order = append(r.order, name)
		for _, m := range p.Models {
			if _, ok := r.advertised[m]; !ok {
				r.advertised[m] = p.Provider
			}
		}
	}
	for i := range models {
		m := models[i]
		if _, dup := r.models[m.Name]; dup {
			return nil, fmt.Errorf("router: duplicate model %q", m.Name)
		}
		if len(m.Targets) == 0 {
			return nil, fmt.Errorf("router: model %q has no targets", m.Name)
		}
		for _, t := range m.Targets {
			if t.Provider == nil {
				return nil, fmt.Errorf("router: model %q has a target without a provider", m.Name)
			}
		}
		if m.Strategy == "" {
			m.Strategy = StrategyWeighted
		}
		r.models[m.Name] = &m
		r.names = append(r.names, m.Name)
	}
	return r, nil
}

// Providers returns the providers in config order.
func (r *Router) Providers() []provider.Provider {
	out := make([]provider.Provider, len(r.order))
	for i, n := range r.order {
		out[i] = r.providers[n]
	}
	return out
}

// VirtualModels returns the virtual models in config order.
func (r *Router) VirtualModels() []*VirtualModel {
	out := make([]*VirtualModel, len(r.names))
	for i, n := range r.names {
		out[i] = r.models[n]
	}
	return out
}

// Resolve returns the candidates for model, best first. The order is
// freshly drawn for each call under the weighted strategy. An unknown model
// is a 404 *llm.Error with code model_not_found.
//
// Names resolve in this order: a virtual model; "provider/model" for a
// configured provider (the model part may itself contain slashes, as
// OpenRouter's do); a bare name that a provider's config advertises.
func (r *Router) Resolve(model string) ([]Target, error) {
	if model == "" {
		return nil, llm.BadRequest("model", "you must provide a model parameter")
	}
	if m, ok := r.models[model]; ok {
		return m.order(r.intN), nil
	}
	if name, upstream, ok := strings.Cut(model, "/"); ok && upstream != "" {
		if p, ok := r.providers[name]; ok {
			return []Target{{Provider: p, Model: upstream, Weight: 1}}, nil
		}
	}
	if p, ok := r.advertised[model]; ok {
		return []Target{{Provider: p, Model: model, Weight: 1}}, nil
	}
	return nil, llm.ModelNotFound(model)
}

func (m *VirtualModel) order(intN func(int) int) []Target {
	out := make([]Target, 0, len(m.Targets))
	if m.Strategy == StrategyFallback || len(m.Targets) == 1 {
		for _, t := range m.Targets {
			if t.Weight > 0 || m.Strategy == StrategyFallback {
				out = append(out, t)
			}
		}
		return out
	}
	// Weighted order without replacement: each position is drawn by weight
	// among the targets not yet placed. Zero-weight targets never lead but
	// stay available as last-resort fallbacks.
	rest := append([]Target(nil), m.Targets...)
	for len(rest) > 0 {
		total := 0
		for _, t := range rest {
			total += t.Weight
		}
		i := 0
		if total > 0 {
			n := intN(total)
			for i = range rest {
				if n -= rest[i].Weight; n < 0 {
					break
				}
			}
		}
		out = append(out, rest[i])
		rest = append(rest[:i], rest[i+1:]...)
	}
	return out
}

// Attempt is called once per candidate by Do.
type Attempt func(ctx context.Context, t Target) error

// Do runs call against the candidates in order until one succeeds or fails
// with an error that another target cannot fix (a caller error, a policy
// refusal, a cancelled client). It returns the target that succeeded, the
// number of attempts made and the last error.
func Do(ctx context.Context, candidates []Target, call Attempt) (Target, int, error) {
	var err error
	for i, t := range candidates {
		if err = call(ctx, t); err == nil {
			return t, i + 1, nil
		}
		if ctx.Err() != nil || !retryable(err) {
			return t, i + 1, err
		}
	}
	if len(candidates) == 0 {
		return Target{}, 0, llm.AsError(fmt.Errorf("router: no candidates"))
	}
	return candidates[len(candidates)-1], len(candidates), err
}

// retryable reports whether another candidate may succeed where this one
// failed: a retryable provider failure, or a parameter this provider cannot
// honour (another provider may).
func retryable(err error) bool {
	e := llm.AsError(err)
	return e.Retryable() || e.Code == "unsupported_parameter"
}
