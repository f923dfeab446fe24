package router

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
)

// fake is a provider that only has a name; routing never calls it.
type fake struct{ name string }

func (f fake) Name() string { return f.name }
func (f fake) Chat(context.Context, *llm.Request) (*llm.Response, error) {
	return nil, errors.New("not used")
}
func (f fake) ChatStream(context.Context, *llm.Request) (llm.Stream, error) {
	return nil, errors.New("not used")
}

func names(ts []Target) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.String()
	}
	return out
}

func newTestRouter(t *testing.T) *Router {
	t.Helper()
	a, b, or := fake{"a"}, fake{"b"}, fake{"openrouter"}
	r, err := New(Config{
		Providers: []Provider{{Provider: a, Models: []string{"gpt-x", "shared"}}, {Provider: b, Models: []string{"shared"}}, {Provider: or}},
		Models: []VirtualModel{
			{Name: "chat", Targets: []Target{{Provider: a, Model: "m1", Weight: 1}, {Provider: b, Model: "m2", Weight: 3}}},
			{Name: "ordered", Strategy: StrategyFallback, Targets: []Target{{Provider: b, Model: "first"}, {Provider: a, Model: "second"}}},
			{Name: "a/shadow", Targets: []Target{{Provider: b, Model: "virtual-wins", Weight: 1}}},
			{Name: "outer", Strategy: StrategyFallback, Targets: []Target{{Virtual: "ordered"}, {Provider: a, Model: "second"}, {Provider: a, Model: "last"}}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestResolve(t *testing.T) {
	r := newTestRouter(t)
	tests := []struct {
		name  string
		model string
		want  []string
		code  string
	}{
		{"fallback keeps config order", "ordered", []string{"b/first", "a/second"}, ""},
		{"nested model expands in place without repeats", "outer", []string{"b/first", "a/second", "a/last"}, ""},
		{"provider prefix", "a/some-model", []string{"a/some-model"}, ""},
		{"model part keeps its slashes", "openrouter/anthropic/claude-x", []string{"openrouter/anthropic/claude-x"}, ""},
		{"virtual model wins over provider prefix", "a/shadow", []string{"b/virtual-wins"}, ""},
		{"bare advertised name goes to the first provider listing it", "shared", []string{"a/shared"}, ""},
		{"unknown bare name", "nope", nil, "model_not_found"},
		{"unknown provider prefix", "zz/model", nil, "model_not_found"},
		{"empty model part", "a/", nil, "model_not_found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Resolve(tc.model)
			if tc.code != "" {
				e := llm.AsError(err)
				if err == nil || e.Code != tc.code || e.Status != http.StatusNotFound {
					t.Fatalf("Resolve(%q) = %v, %v; want a 404 %s", tc.model, names(got), err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, names(got)); diff != "" {
				t.Errorf("candidates (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := r.Resolve(""); llm.AsError(err).Status != http.StatusBadRequest {
		t.Errorf("empty model: err = %v, want 400", err)
	}
}

func TestWeightedOrderFollowsWeights(t *testing.T) {
	r := newTestRouter(t)
	// The draw picks the target whose cumulative weight range holds n:
	// a holds [0,1), b holds [1,4).
	for _, tc := range []struct {
		draw int
		want []string
	}{
		{0, []string{"a/m1", "b/m2"}},
		{1, []string{"b/m2", "a/m1"}},
		{3, []string{"b/m2", "a/m1"}},
	} {
		r.intN = func(n int) int {
			if n == 4 {
				return tc.draw
			}
			return 0 // the one remaining target
		}
		got, err := r.Resolve("chat")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, names(got)); diff != "" {
			t.Errorf("draw %d (-want +got):\n%s", tc.draw, diff)
		}
	}
}

func TestZeroWeightTargetIsOnlyAFallback(t *testing.T) {
	a, b := fake{"a"}, fake{"b"}
	r, err := New(Config{Providers: []Provider{{Provider: a}, {Provider: b}}, Models: []VirtualModel{{Name: "m", Targets: []Target{
		{Provider: a, Model: "standby", Weight: 0}, {Provider: b, Model: "main", Weight: 5}}}}})
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		got, _ := r.Resolve("m")
		if diff := cmp.Diff([]string{"b/main", "a/standby"}, names(got)); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
	}
}

func TestNewRejectsBrokenModels(t *testing.T) {
	a := fake{"a"}
	for name, vms := range map[string][]VirtualModel{
		"no targets":       {{Name: "m"}},
		"nil provider":     {{Name: "m", Targets: []Target{{Model: "x", Weight: 1}}}},
		"duplicate model":  {{Name: "m", Targets: []Target{{Provider: a, Model: "x", Weight: 1}}}, {Name: "m", Targets: []Target{{Provider: a, Model: "y", Weight: 1}}}},
		"unknown strategy": {{Name: "m", Strategy: "random", Targets: []Target{{Provider: a, Model: "x", Weight: 1}}}},
		"unknown nested":   {{Name: "m", Targets: []Target{{Virtual: "nope", Weight: 1}}}},
		"self cycle":       {{Name: "m", Targets: []Target{{Virtual: "m", Weight: 1}}}},
		"cycle": {{Name: "m", Targets: []Target{{Virtual: "n", Weight: 1}}}, {Name: "n", Targets: []Target{
			{Provider: a, Model: "x", Weight: 1}, {Virtual: "o", Weight: 1}}}, {Name: "o", Targets: []Target{{Virtual: "m", Weight: 1}}}},
	} {
		if _, err := New(Config{Providers: []Provider{{Provider: a}}, Models: vms}); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	if _, err := New(Config{Providers: []Provider{{Provider: a}, {Provider: a}}}); err == nil {
		t.Error("duplicate provider: New succeeded")
	}
}
