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
	virtual := make(map[string]int, len(v.c.Models))
	for i := range v.c.Models {
		if _, dup := virtual[v.c.Models[i].Name]; !dup {
			virtual[v.c.Models[i].Name] = i
		}
	}
	for i := range v.c.Models {
		m := &v.c.Models[i]
		path := indexPath("models", i)
		v.modelName(m.Name, fieldPath(path, "name"), known, first)
		if !slices.Contains(strategies, m.Strategy) {
			sp := fieldPath(path, "strategy")
			v.bad(sp, "must be one of %s%s", strings.Join(strategies, ", "), v.show(sp, m.Strategy))
		}
		v.retry(&m.Retry, fieldPath(path, "retry"))
		v.timeouts(&m.Timeouts, fieldPath(path, "timeouts"))
		v.fallbackOn(m.FallbackOn, fieldPath(path, "fallback_on"))
		tp := fieldPath(path, "targets")
		if len(m.Targets) == 0 {
			v.missing(tp, "at least one target is required, e.g. [{provider: openai, model: gpt-4o-mini}]")
			continue
		}
		positive := false
		for j := range m.Targets {
			t := &m.Targets[j]
			v.target(t, indexPath(tp, j), known, virtual)
			positive = positive || t.Weight > 0
		}
		if !positive {
			v.bad(tp, "at least one target needs a weight above 0")
		}
	}
	if v.nestingCycles(virtual) {
		v.nestingDepth(virtual)
	}
}

// MaxNesting is how many levels of virtual models may nest below a model
// (the router's limit, router.MaxNesting).
const MaxNesting = 8

// nestingDepth reports the first model whose targets nest virtual models
// more than MaxNesting levels deep; the models have no cycle.
func (v *validator) nestingDepth(virtual map[string]int) {
	depth := make([]int, len(v.c.Models)) // levels below each model; -1 unknown
	next := make([]int, len(v.c.Models))  // the child on the deepest chain; -1 none
	for i := range depth {
		depth[i], next[i] = -1, -1
	}
	var measure func(i int) int
	measure = func(i int) int {
		if depth[i] >= 0 {
			return depth[i]
		}
		depth[i] = 0
		for _, t := range v.c.Models[i].Targets {
			if j, ok := virtual[t.Model]; ok && t.Provider == "" {
				if d := measure(j) + 1; d > depth[i] {
					depth[i], next[i] = d, j
				}
			}
		}
		return depth[i]
	}
	for i := range v.c.Models {
		if measure(i) <= MaxNesting {
			continue
		}
		var chain []string
		for j := i; j >= 0; j = next[j] {
			chain = append(chain, v.c.Models[j].Name)
		}
		v.bad(fieldPath(indexPath("models", i), "targets"), "virtual models nest %d levels deep, at most %d are allowed: %s",
			depth[i], MaxNesting, strings.Join(chain, " → "))
		return // one report is enough
	}
}

// nestingCycles reports a virtual model that reaches itself through
// targets naming virtual models, and reports whether there is none.
func (v *validator) nestingCycles(virtual map[string]int) bool {
	const (
		unseen = iota
		active
		done
	)
	state := make([]int, len(v.c.Models))
	var visit func(i int, chain []string) bool
	visit = func(i int, chain []string) bool {
		m := &v.c.Models[i]
		chain = append(chain, m.Name)
		switch state[i] {
		case active:
			v.bad(fieldPath(indexPath("models", i), "targets"), "nesting cycle: %s", strings.Join(chain, " → "))
			return false
		case done:
			return true
		}
		state[i] = active
		for _, t := range m.Targets {
			if j, ok := virtual[t.Model]; ok && t.Provider == "" {
				if !visit(j, chain) {
					return false
				}
			}
		}
		state[i] = done
		return true
	}
	for i := range v.c.Models {
		if state[i] == unseen && !visit(i, nil) {
			return false // one report is enough
		}
	}
	return true
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

func (v *validator) target(t *Target, path string, known map[string]bool, virtual map[string]int) {
	pp := fieldPath(path, "provider")
	switch {
	case t.Provider == "":
		if _, ok := virtual[t.Model]; !ok && t.Model != "" {
			v.missing(pp, "required: the name of a configured provider (or leave it out and name a virtual model in model; %s is not one)",
				v.q(fieldPath(path, "model"), t.Model))
		} else if t.Model == "" {
			v.missing(pp, "required: the name of a configured provider")
		}
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
	v.region(fieldPath(path, "region"), t.Region)
	if t.ContextWindow < 0 {
		v.bad(fieldPath(path, "context_window"), "must not be negative")
	}
	if t.MaxTokens < 0 {
		v.bad(fieldPath(path, "max_tokens"), "must not be negative")
	}
	v.targetOverrides(t, path)
}

// gatewayMembers are the request body members the gateway writes from the
// client's request in some wire format (OpenAI, Anthropic, Gemini), which
// a target's extra must not replace.
var gatewayMembers = []string{"model", "messages", "stream", "stream_options", "system",
	"contents", "systemInstruction", "system_instruction"}

// targetOverrides checks a target's extra and retry.
func (v *validator) targetOverrides(t *Target, path string) {
	ep, rp := fieldPath(path, "extra"), fieldPath(path, "retry")
	if t.Provider == "" {
		// A virtual target stands for another model's targets: the
		// overrides belong on those.
		const msg = "applies to provider targets only; set it on the targets of virtual model %s"
		if len(t.Extra) > 0 {
			v.bad(ep, msg, v.q(fieldPath(path, "model"), t.Model))
		}
		if t.Retry != nil {
			v.bad(rp, msg, v.q(fieldPath(path, "model"), t.Model))
		}
		return
	}
	keys := make([]string, 0, len(t.Extra))
	for k := range t.Extra {
		keys = append(keys, k)
	}
	slices.Sort(keys) // one report order, whatever the map's
	for _, k := range keys {
		kp := fieldPath(ep, k)
		switch {
		case k == "":
			v.bad(kp, "must not be empty")
		case slices.Contains(gatewayMembers, k):
			v.bad(kp, "the gateway writes %q from the client's request; extra cannot set it", k)
		}
	}
	if t.Retry != nil {
		v.retry(t.Retry, rp)
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
