package usage

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testCatalog is a small catalog with the shapes Lookup must tell apart.
func testCatalog(t testing.TB) *Catalog {
	t.Helper()
	c, err := ParseCatalog([]byte(`{"version":"2026-01-02","prices":[
		{"provider":"openai","model":"gpt-4o","input":"2.50","output":"10"},
		{"provider":"openai","model":"gpt-4o-mini","input":"0.15","output":"0.60"},
		{"provider":"openai","model":"o3","input":"2","output":"8"},
		{"provider":"anthropic","model":"claude-sonnet-4","input":"3","output":"15"},
		{"provider":"anthropic","model":"claude-sonnet-4-5","input":"3.5","output":"15"},
		{"provider":"anthropic","model":"claude-haiku-4-5","input":"1","output":"5"},
		{"provider":"gemini","model":"gemini-2.5-flash","input":"0.30","output":"2.50"},
		{"provider":"groq","model":"openai/gpt-oss-120b","input":"0.15","output":"0.60"},
		{"provider":"mock","model":"echo","input":"1","output":"2"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLookup(t *testing.T) {
	base := testCatalog(t)
	over := base.WithOverrides(map[string]Price{
		"team-openai/gpt-4o": {Input: 1},
		"gpt-4o":             {Input: 2},
		"my-model":           {Input: 3},
		"":                   {Input: 99},
	})
	gpt4o := Price{Input: 2_500_000, Output: 10_000_000}
	for _, tc := range []struct {
		name               string
		cat                *Catalog
		provName, provType string
		model              string
		want               Price
		ok                 bool
	}{
		{"exact", base, "openai", "openai", "gpt-4o", gpt4o, true},
		{"dated variant", base, "openai", "openai", "gpt-4o-2024-08-06", gpt4o, true},
		{"longest prefix wins", base, "openai", "openai", "gpt-4o-mini-2024-07-18", Price{Input: 150_000, Output: 600_000}, true},
		{"anthropic dated", base, "anthropic", "anthropic", "claude-sonnet-4-5-20250929", Price{Input: 3_500_000, Output: 15_000_000}, true},
		{"anthropic shorter family", base, "anthropic", "anthropic", "claude-sonnet-4-20250514", Price{Input: 3_000_000, Output: 15_000_000}, true},
		{"prefix must end at a dash", base, "openai", "openai", "gpt-4oxyz", Price{}, false},
		{"dot is not a boundary", base, "openai", "openai", "o3.5", Price{}, false},
		{"unknown model", base, "openai", "openai", "gpt-9", Price{}, false},
		{"unknown type", base, "local", "ollama", "llama3", Price{}, false},
		{"model with a slash", base, "groq", "groq", "openai/gpt-oss-120b", Price{Input: 150_000, Output: 600_000}, true},
		{"model of another type", base, "openai", "openai", "claude-haiku-4-5", Price{}, false},
		{"azure bills openai prices", base, "eu-azure", "azure", "gpt-4o", gpt4o, true},
		{"azure dated", base, "eu-azure", "azure", "gpt-4o-2024-11-20", gpt4o, true},
		{"openrouter openai", base, "or", "openrouter", "openai/gpt-4o", gpt4o, true},
		{"openrouter anthropic", base, "or", "openrouter", "anthropic/claude-haiku-4-5", Price{Input: 1_000_000, Output: 5_000_000}, true},
		{"openrouter google", base, "or", "openrouter", "google/gemini-2.5-flash", Price{Input: 300_000, Output: 2_500_000}, true},
		{"openrouter unknown vendor", base, "or", "openrouter", "meta-llama/llama-3-70b", Price{}, false},
		{"provider named after a catalog type", base, "mock", "openai", "echo", Price{Input: 1_000_000, Output: 2_000_000}, true},
		{"groq through the openai type", base, "groq", "openai", "openai/gpt-oss-120b", Price{Input: 150_000, Output: 600_000}, true},
		{"empty type reads the name", base, "anthropic", "", "claude-haiku-4-5", Price{Input: 1_000_000, Output: 5_000_000}, true},
		{"type wins over name", base, "openai", "anthropic", "claude-haiku-4-5", Price{Input: 1_000_000, Output: 5_000_000}, true},
		{"override provider/model first", over, "team-openai", "openai", "gpt-4o", Price{Input: 1}, true},
		{"override model next", over, "other", "openai", "gpt-4o", Price{Input: 2}, true},
		{"model override matches the exact name only", over, "other", "openai", "gpt-4o-2024-08-06", gpt4o, true},
		{"override of an unlisted model", over, "x", "ollama", "my-model", Price{Input: 3}, true},
		{"provider/model key also matches as a model name", over, "any", "any", "team-openai/gpt-4o", Price{Input: 1}, true},
		{"empty key ignored", over, "openai", "openai", "", Price{}, false},
		{"overrides leave the catalog", over, "openai", "openai", "o3", Price{Input: 2_000_000, Output: 8_000_000}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.cat.Lookup(tc.provName, tc.provType, tc.model)
			if ok != tc.ok {
				t.Fatalf("Lookup(%q, %q, %q) ok = %v, want %v", tc.provName, tc.provType, tc.model, ok, tc.ok)
			}
			if diff := cmp.Diff(got, tc.want); diff != "" {
				t.Errorf("Lookup(%q, %q, %q) (-got +want):\n%s", tc.provName, tc.provType, tc.model, diff)
			}
		})
	}
}

func TestWithOverrides(t *testing.T) {
	base := testCatalog(t)
	if got := base.WithOverrides(nil); got != base {
		t.Error("WithOverrides(nil) returned a new catalog, want the receiver")
	}
	first := base.WithOverrides(map[string]Price{"a/m": {Input: 1}, "m2": {Input: 2}})
	second := first.WithOverrides(map[string]Price{"a/m": {Input: 10}, "m3": {Input: 3}})
	for _, tc := range []struct {
		name  string
		cat   *Catalog
		prov  string
		model string
		want  Price
		ok    bool
	}{
		{"base untouched", base, "a", "m", Price{}, false},
		{"first has its own", first, "a", "m", Price{Input: 1}, true},
		{"first is not changed by second", first, "x", "m3", Price{}, false},
		{"second replaces same key", second, "a", "m", Price{Input: 10}, true},
		{"second keeps first's other keys", second, "x", "m2", Price{Input: 2}, true},
		{"second adds", second, "x", "m3", Price{Input: 3}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.cat.Lookup(tc.prov, "openai", tc.model)
			if ok != tc.ok || got != tc.want {
				t.Errorf("Lookup = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
	if second.Version() != base.Version() {
		t.Errorf("Version = %q, want %q", second.Version(), base.Version())
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	c := Default().WithOverrides(map[string]Price{"team/gpt-4o": {Input: 1}})
	for _, q := range [][3]string{
		{"openai", "openai", "gpt-4o"},
		{"openai", "openai", "gpt-4o-mini-2024-07-18"},
		{"team", "openai", "gpt-4o"},
		{"or", "openrouter", "anthropic/claude-sonnet-4-5-20250929"},
		{"x", "ollama", "llama3:8b"},
	} {
		if n := testing.AllocsPerRun(100, func() { _, _ = c.Lookup(q[0], q[1], q[2]) }); n != 0 {
			t.Errorf("Lookup%q allocates %v times, want 0", q, n)
		}
	}
}

// TestDefaultEmptyFallback documents what Default returns if the embedded
// file were broken: a catalog that prices nothing, never a panic.
func TestDefaultEmptyFallback(t *testing.T) {
	c := &Catalog{version: "invalid"}
	if _, ok := c.Lookup("openai", "openai", "gpt-4o"); ok {
		t.Error("empty catalog priced a model")
	}
	if got := c.WithOverrides(map[string]Price{"m": {Input: 1}}); got.Version() != "invalid" {
		t.Errorf("Version = %q", got.Version())
	}
}
