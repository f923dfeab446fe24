package config

import (
	"errors"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/route"
)

// Route is a conditional route. Routes are tried in order for every LLM
// request; the first whose When holds decides the model (and the shadow
// traffic) of the request. A request no route matches goes to the model it
// names.
type Route struct {
	// Name identifies the route in the x-sluice-route response header
	// and in logs. Required, unique, letters, digits, '_', '-' and '.',
	// at most 64 bytes.
	Name string `yaml:"name"`
	// When is a condition in the expr language
	// (https://expr-lang.org) over: model (string, as requested),
	// metadata (map of string, from x-sluice-metadata), key, team, tenant
	// (string ids, "" when unset), prompt_tokens (int, an estimate),
	// has_tools, has_images, stream (bool). It is type-checked at load.
	// Required; write true to match every request.
	When string `yaml:"when"`
	// Model is where a matching request goes: a virtual model,
	// "provider/model", or a model a provider advertises. Empty keeps
	// the requested model (a route that only mirrors).
	Model string `yaml:"model"`
	// Mirror copies a share of the matching requests to a candidate
	// model in the background. Zero value: no mirroring.
	Mirror Mirror `yaml:"mirror"`
	// Cache overrides the cache settings for the matching requests, key
	// by key over the target model's own.
	Cache *CacheSettings `yaml:"cache,omitempty" json:",omitempty"`
}

// Mirror is a route's shadow traffic: a copy of some requests sent to
// another model after the primary answered, whose answer is logged (as a
// record with mirror_of set) and thrown away.
type Mirror struct {
	// Model is the candidate: a virtual model, "provider/model", or a
	// model a provider advertises. Empty: no mirroring.
	Model string `yaml:"model"`
	// Percent is the share of the route's requests copied, from 0 (off)
	// to 100. Required with Model; at most two decimals count.
	Percent float64 `yaml:"percent"`
	// Timeout bounds one shadow request, stream included. Default 60s.
	Timeout Duration `yaml:"timeout"`
	// MaxInFlight bounds the shadow requests of this route running at
	// once; a copy that would exceed it is dropped and counted. Default 8.
	MaxInFlight int `yaml:"max_in_flight"`
}

const (
	defaultMirrorTimeout     = Duration(60 * time.Second)
	defaultMirrorMaxInFlight = 8
	maxRouteNameLen          = 64
)

// routeDefaults fills the routes' mirror defaults.
func (c *Config) routeDefaults() {
	for i := range c.Routes {
		m := &c.Routes[i].Mirror
		if m.Model == "" {
			continue
		}
		path := fieldPath(indexPath("routes", i), "mirror")
		c.defaultDuration(&m.Timeout, fieldPath(path, "timeout"), defaultMirrorTimeout)
		c.defaultInt(&m.MaxInFlight, fieldPath(path, "max_in_flight"), defaultMirrorMaxInFlight)
	}
}

// routes checks the routes: names, conditions (compiled here, so a type
// error is a load error with its line) and the models they name, against
// the provider names known.
func (v *validator) routes(known map[string]bool) {
	first := make(map[string]string, len(v.c.Routes))
	for i := range v.c.Routes {
		r := &v.c.Routes[i]
		path := indexPath("routes", i)
		np := fieldPath(path, "name")
		switch {
		case r.Name == "":
			v.missing(np, "required: a name for the x-sluice-route header and the logs")
		case len(r.Name) > maxRouteNameLen || !routeName(r.Name):
			v.bad(np, "must be 1 to %d letters, digits, '_', '-' or '.'%s", maxRouteNameLen, v.show(np, r.Name))
		default:
			if prev, dup := first[r.Name]; dup {
				v.bad(np, "duplicate route name %s (first at %s)", v.q(np, r.Name), v.firstAt(prev))
			} else {
				first[r.Name] = np
			}
		}
		wp := fieldPath(path, "when")
		if r.When == "" {
			v.missing(wp, "required: a condition, e.g. metadata.plan == \"free\" (true matches every request)")
		} else if _, err := route.Compile(r.When); err != nil {
			var ce *route.CompileError
			if errors.As(err, &ce) {
				v.bad(wp, "%s", ce.Error())
			} else {
				v.bad(wp, "%v", err)
			}
		}
		if r.Model != "" {
			v.routeModel(fieldPath(path, "model"), r.Model, known)
		}
		v.mirror(&r.Mirror, fieldPath(path, "mirror"), known)
		if r.Model == "" && r.Mirror.Model == "" {
			v.bad(path, "a route needs a model, a mirror, or both")
		}
	}
}

func (v *validator) mirror(m *Mirror, path string, known map[string]bool) {
	pp := fieldPath(path, "percent")
	if m.Model == "" {
		if m.Percent != 0 || m.Timeout != 0 || m.MaxInFlight != 0 {
			v.missing(fieldPath(path, "model"), "required: the model the copies go to")
		}
		return
	}
	v.routeModel(fieldPath(path, "model"), m.Model, known)
	switch {
	case !v.c.src.explicit(pp) && v.c.src != nil:
		v.missing(pp, "required: the share of requests to copy, 0 to 100")
	case m.Percent < 0 || m.Percent > 100 || m.Percent != m.Percent:
		v.bad(pp, "must be from 0 to 100")
	}
	v.nonNegative(fieldPath(path, "timeout"), m.Timeout)
	if m.Timeout == 0 {
		v.bad(fieldPath(path, "timeout"), "must be above 0: a shadow request needs a bound")
	}
	if m.MaxInFlight <= 0 {
		v.bad(fieldPath(path, "max_in_flight"), "must be above 0")
	}
}

// routeModel checks that a route's model names something the router can
// resolve: a virtual model, "provider/model" of a known provider, or a
// model some provider advertises.
func (v *validator) routeModel(path, name string, known map[string]bool) {
	for i := range v.c.Models {
		if v.c.Models[i].Name == name {
			return
		}
	}
	if prefix, rest, ok := strings.Cut(name, "/"); ok && rest != "" && isKnown(known, prefix) {
		return
	}
	if v.c.Mock.Enabled && name == "echo" {
		return
	}
	for i := range v.c.Providers {
		for _, m := range v.c.Providers[i].Models {
			if m == name {
				return
			}
		}
	}
	v.bad(path, "unknown model %s: name a virtual model, provider/model, or a model a provider lists", v.q(path, name))
}

// routeName reports whether s uses only the characters a route name may.
func routeName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return s != ""
}
