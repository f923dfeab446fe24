package config

import (
	"fmt"
	"slices"
	"strings"
)

// models checks the virtual models against the provider names targets may
// use (known).
func (v *validator) models(known map[string]bool) {
	first := make(map[string]string, len(v.c.Models))
	for i := range v.c.Models {
		m := &v.c.Models[i]
		path := indexPath("models", i)
		v.modelName(m.Name, fieldPath(path, "name"), known, first)
		switch m.Strategy {
		case strategyWeighted, strategyFallback:
		default:
			sp := fieldPath(path, "strategy")
			v.bad(sp, "must be weighted or fallback%s", v.show(sp, m.Strategy))
		}
		tp := fieldPath(path, "targets")
		if len(m.Targets) == 0 {
			v.missing(tp, "at least one target is required, e.g. [{provider: openai, model: gpt-4o-mini}]")
			continue
		}
		positive := false
		for j := range m.Targets {
			t := &m.Targets[j]
			v.target(t, indexPath(tp, j), known)
			positive = positive || t.Weight > 0
		}
		if !positive {
			v.bad(tp, "at least one target needs a weight above 0")
		}
	}
}

func (v *validator) modelName(name, path string, known map[string]bool, first map[string]string) {
	if name == "" {
		v.missing(path, "required: the model name clients send")
		return
	}
	if strings.TrimSpace(name) != name {
		v.bad(path, "must not begin or end with spaces")
		return
	}
	if prefix, _, ok := strings.Cut(name, "/"); ok {
		if _, configured := known[prefix]; configured {
			what := "this value reads as a model of a configured provider"
			if v.c.src.envVar(path) == "" {
				what = fmt.Sprintf("%q reads as model %q of configured provider %q", name, name[len(prefix)+1:], prefix)
			}
			v.bad(path, "%s (provider/model); rename the virtual model", what)
			return
		}
	}
	if prev, dup := first[name]; dup {
		v.bad(path, "duplicate model name %s (first at %s)", v.q(path, name), v.firstAt(prev))
		return
	}
	first[name] = path
}

func (v *validator) target(t *Target, path string, known map[string]bool) {
	pp := fieldPath(path, "provider")
	switch {
	case t.Provider == "":
		v.missing(pp, "required: the name of a configured provider")
	case !isKnown(known, t.Provider):
		hint := ""
		if t.Provider == mockProvider && !v.c.Mock.Enabled {
			hint = "; set mock.enabled: true to use the built-in mock"
		}
		v.bad(pp, "unknown provider %s; configured: %s%s", v.q(pp, t.Provider), knownList(known), hint)
	}
	if t.Model == "" {
		v.missing(fieldPath(path, "model"), "required: the provider's own model name")
	}
	if t.Weight < 0 {
		v.bad(fieldPath(path, "weight"), "must not be negative")
	}
}

func isKnown(known map[string]bool, name string) bool {
	_, ok := known[name]
	return ok
}

// knownList lists the provider names that may be printed.
func knownList(known map[string]bool) string {
	names := make([]string, 0, len(known))
	for n, printable := range known {
		if printable {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
