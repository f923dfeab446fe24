package config

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// routeBase is a config the route cases build on: a provider with an
// advertised model and a virtual model. Route keys start on line 10.
const routeBase = okProvider + "    models: [gpt-4o-mini]\n" +
	"models:\n  - name: small\n    targets: [{provider: openai, model: gpt-4o-mini}]\n" +
	"routes:\n"

func TestRoutesParse(t *testing.T) {
	c := mustParse(t, routeBase+
		"  - name: free-plan\n    when: metadata.plan == \"free\"\n    model: small\n"+
		"  - name: long\n    when: prompt_tokens > 100000\n    model: openai/gpt-4.1\n"+
		"    mirror: {model: gpt-4o-mini, percent: 12.5}\n"+
		"  - name: shadow\n    when: \"true\"\n    mirror: {model: small, percent: 0, timeout: 5s, max_in_flight: 2}\n")
	want := []Route{
		{Name: "free-plan", When: `metadata.plan == "free"`, Model: "small"},
		{Name: "long", When: "prompt_tokens > 100000", Model: "openai/gpt-4.1",
			Mirror: Mirror{Model: "gpt-4o-mini", Percent: 12.5, Timeout: Duration(60 * time.Second), MaxInFlight: 8}},
		{Name: "shadow", When: "true", Mirror: Mirror{Model: "small", Percent: 0, Timeout: Duration(5 * time.Second), MaxInFlight: 2}},
	}
	if diff := cmp.Diff(want, c.Routes); diff != "" {
		t.Errorf("routes (-want +got):\n%s", diff)
	}
}

func TestRoutesValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "type error in the condition, with its line",
			src:  "  - name: r\n    when: metadata.tier > 2\n    model: small\n",
			want: []string{"sluice.yaml:11: routes[0].when: column 15 of the condition: invalid operation: > (mismatched types string and int)"},
		},
		{
			name: "unknown name and not a bool",
			src:  "  - name: a\n    when: modle == \"x\"\n    model: small\n  - name: b\n    when: prompt_tokens\n    model: small\n",
			want: []string{
				"sluice.yaml:11: routes[0].when: column 1 of the condition: unknown name modle",
				"sluice.yaml:14: routes[1].when: expected bool, but got int",
			},
		},
		{
			name: "missing and duplicate names, missing when",
			src:  "  - when: \"true\"\n    model: small\n  - name: x\n    model: small\n  - name: x\n    when: \"true\"\n    model: small\n",
			want: []string{
				"sluice.yaml:10: routes[0].name: required: a name for the x-sluice-route header and the logs",
				`sluice.yaml:12: routes[1].when: required: a condition, e.g. metadata.plan == "free" (true matches every request)`,
				`sluice.yaml:14: routes[2].name: duplicate route name "x" (first at line 12)`,
			},
		},
		{
			name: "bad name",
			src:  "  - name: \"a b\"\n    when: \"true\"\n    model: small\n",
			want: []string{`sluice.yaml:10: routes[0].name: must be 1 to 64 letters, digits, '_', '-' or '.', got "a b"`},
		},
		{
			name: "unknown models",
			src:  "  - name: r\n    when: \"true\"\n    model: big\n    mirror: {model: nope/x, percent: 5}\n",
			want: []string{
				`sluice.yaml:12: routes[0].model: unknown model "big": name a virtual model, provider/model, or a model a provider lists`,
				`sluice.yaml:13: routes[0].mirror.model: unknown model "nope/x": name a virtual model, provider/model, or a model a provider lists`,
			},
		},
		{
			name: "neither model nor mirror",
			src:  "  - name: r\n    when: \"true\"\n",
			want: []string{"sluice.yaml:10: routes[0]: a route needs a model, a mirror, or both"},
		},
		{
			name: "mirror without percent, bad bounds",
			src:  "  - name: r\n    when: \"true\"\n    mirror:\n      model: small\n      timeout: 0s\n      max_in_flight: 0\n",
			want: []string{
				"sluice.yaml:12: routes[0].mirror.percent: required: the share of requests to copy, 0 to 100",
				"sluice.yaml:14: routes[0].mirror.timeout: must be above 0: a shadow request needs a bound",
				"sluice.yaml:15: routes[0].mirror.max_in_flight: must be above 0",
			},
		},
		{
			name: "percent out of range",
			src:  "  - name: r\n    when: \"true\"\n    mirror: {model: small, percent: 101}\n",
			want: []string{"sluice.yaml:12: routes[0].mirror.percent: must be from 0 to 100"},
		},
		{
			name: "mirror settings without a model",
			src:  "  - name: r\n    when: \"true\"\n    model: small\n    mirror: {percent: 10}\n",
			want: []string{"sluice.yaml:13: routes[0].mirror.model: required: the model the copies go to"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse([]byte(routeBase+tc.src), "sluice.yaml", lookupIn(testEnv))
			if diff := cmp.Diff(tc.want, errLines(err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWatchConfig(t *testing.T) {
	if c := mustParse(t, "server: {watch_config: true}\n"); !c.Server.WatchConfig {
		t.Error("watch_config not read")
	}
	if c := mustParse(t, ""); c.Server.WatchConfig {
		t.Error("watch_config on by default")
	}
}
