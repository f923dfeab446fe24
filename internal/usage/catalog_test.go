package usage

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestDefaultCatalogIsValid is the guard Default relies on: the embedded
// file must parse, so that Default never falls back to an empty catalog.
func TestDefaultCatalogIsValid(t *testing.T) {
	c, err := defaultCatalog()
	if err != nil {
		t.Fatalf("embedded prices.json: %v", err)
	}
	if Default() != c {
		t.Error("Default() does not return the parsed embedded catalog")
	}
	if _, err := time.Parse(time.DateOnly, c.Version()); err != nil {
		t.Errorf("Version() = %q, not a date", c.Version())
	}
}

// TestDefaultCatalogCoversModels lists the models the catalog promises.
func TestDefaultCatalogCoversModels(t *testing.T) {
	want := map[string][]string{
		"openai": {"gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano",
			"gpt-4o", "gpt-4o-mini", "o1", "o3", "o3-mini", "o4-mini",
			"text-embedding-3-small", "text-embedding-3-large"},
		"anthropic": {"claude-opus-4-1", "claude-opus-4-0", "claude-opus-4-5", "claude-sonnet-4-5",
			"claude-sonnet-4-0", "claude-haiku-4-5", "claude-3-5-haiku-latest"},
		"gemini":   {"gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.0-flash"},
		"mistral":  {"mistral-large-latest", "mistral-medium-latest", "codestral-latest"},
		"groq":     {"llama-3.3-70b-versatile", "openai/gpt-oss-120b"},
		"deepseek": {"deepseek-chat", "deepseek-reasoner"},
		"mock":     {"echo"},
	}
	c := Default()
	for typ, models := range want {
		for _, m := range models {
			p, ok := c.Lookup(typ, typ, m)
			if !ok {
				t.Errorf("no price for %s/%s", typ, m)
				continue
			}
			if p.Input <= 0 {
				t.Errorf("%s/%s: input price %d, want > 0", typ, m, p.Input)
			}
		}
	}
}

// TestDefaultCatalogDatedModels checks that the ids providers actually
// return (dated snapshots) reach the right family, and that a snapshot
// with a price of its own keeps it.
func TestDefaultCatalogDatedModels(t *testing.T) {
	c := Default()
	for _, tc := range []struct {
		typ, model    string
		input, output int64
	}{
		{"openai", "gpt-4o-2024-08-06", 2_500_000, 10_000_000},
		{"openai", "gpt-4o-2024-05-13", 5_000_000, 15_000_000},
		{"openai", "gpt-4o-mini-2024-07-18", 150_000, 600_000},
		{"openai", "gpt-5-mini-2025-08-07", 250_000, 2_000_000},
		{"openai", "gpt-4.1-nano-2025-04-14", 100_000, 400_000},
		{"openai", "o3-mini-2025-01-31", 1_100_000, 4_400_000},
		{"anthropic", "claude-sonnet-4-5-20250929", 3_000_000, 15_000_000},
		{"anthropic", "claude-opus-4-20250514", 15_000_000, 75_000_000},
		{"anthropic", "claude-opus-4-1-20250805", 15_000_000, 75_000_000},
		{"anthropic", "claude-opus-4-5-20251101", 5_000_000, 25_000_000},
		{"anthropic", "claude-haiku-4-5-20251001", 1_000_000, 5_000_000},
		{"anthropic", "claude-3-5-haiku-20241022", 800_000, 4_000_000},
		{"gemini", "gemini-2.5-flash-lite-preview-09-2025", 100_000, 400_000},
		{"gemini", "gemini-2.0-flash-001", 100_000, 400_000},
		{"mistral", "codestral-2508", 300_000, 900_000},
	} {
		t.Run(tc.typ+"/"+tc.model, func(t *testing.T) {
			p, ok := c.Lookup(tc.typ, tc.typ, tc.model)
			if !ok || p.Input != tc.input || p.Output != tc.output {
				t.Errorf("Lookup = %+v, %v; want input %d, output %d", p, ok, tc.input, tc.output)
			}
		})
	}
}

// TestDefaultCatalogSanity checks every entry against rules that catch
// typos: cached reads never cost more than input, output is not below
// input for chat models, and every provider has a source.
func TestDefaultCatalogSanity(t *testing.T) {
	var f catalogFile
	if err := json.Unmarshal(pricesJSON, &f); err != nil {
		t.Fatal(err)
	}
	c := Default()
	for _, e := range f.Prices {
		p, ok := c.Lookup(e.Provider, e.Provider, e.Model)
		if !ok {
			t.Errorf("%s/%s does not resolve to itself", e.Provider, e.Model)
			continue
		}
		if p.CachedInput > p.Input {
			t.Errorf("%s/%s: cached input %s above input %s", e.Provider, e.Model, FormatUSD(p.CachedInput), FormatUSD(p.Input))
		}
		if p.Output != 0 && p.Output < p.Input {
			t.Errorf("%s/%s: output %s below input %s", e.Provider, e.Model, FormatUSD(p.Output), FormatUSD(p.Input))
		}
		if f.Sources[e.Provider] == "" {
			t.Errorf("provider %s has no entry in sources", e.Provider)
		}
	}
}

// TestAnthropicCacheMultipliers holds the Claude 4.x and 3.x rows to
// Anthropic's rule: 5-minute cache writes at 1.25× input, reads at 0.1×.
// Claude 3 Haiku is the exception: Anthropic lists its cache prices
// rounded ($0.30 and $0.03 for $0.25 input).
func TestAnthropicCacheMultipliers(t *testing.T) {
	c := Default()
	for model, p := range c.prices["anthropic"] {
		if !strings.Contains(model, "-4") && !strings.Contains(model, "-3-") || model == "claude-3-haiku" {
			continue
		}
		if p.CacheWrite*100 != p.Input*125 {
			t.Errorf("%s: cache write %s, want 1.25 × %s", model, FormatUSD(p.CacheWrite), FormatUSD(p.Input))
		}
		if p.CachedInput*10 != p.Input {
			t.Errorf("%s: cache read %s, want 0.1 × %s", model, FormatUSD(p.CachedInput), FormatUSD(p.Input))
		}
	}
}

func TestParseCatalog(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want map[string]map[string]Price
		errs []string // substrings the error must contain
	}{
		{"minimal", `{"version":"2026-01-02","prices":[{"provider":"p","model":"m","input":"1","output":"2.5","cached_input":"0.1","cache_write":"1.25","per_request":"0.01"}]}`,
			map[string]map[string]Price{"p": {"m": {Input: 1_000_000, Output: 2_500_000, CachedInput: 100_000, CacheWrite: 1_250_000, PerRequest: 10_000}}}, nil},
		{"not json", `{`, nil, []string{"usage: decode catalog"}},
		{"unknown field", `{"version":"2026-01-02","prices":[],"extra":1}`, nil, []string{`unknown field "extra"`}},
		{"unknown entry field", `{"version":"2026-01-02","prices":[{"provider":"p","model":"m","input":"1","output":"1","inptu":"2"}]}`, nil, []string{`unknown field "inptu"`}},
		{"trailing data", `{"version":"2026-01-02","prices":[]} {}`, nil, []string{"data after the top-level object"}},
		{"trailing brace", `{"version":"2026-01-02","prices":[]}}`, nil, []string{"data after the top-level object"}},
		{"bad version", `{"version":"Nov 2026","prices":[]}`, nil, []string{`version: "Nov 2026" is not a YYYY-MM-DD date`}},
		{"every problem at once", `{"version":"2026-01-02","prices":[
			{"provider":"p","model":"","input":"1","output":"1"},
			{"provider":"p","model":"a","output":"1"},
			{"provider":"p","model":"b","input":"-1","output":"x"},
			{"provider":"p","model":"c","input":"1","output":"1"},
			{"provider":"p","model":"c","input":"2","output":"2"}]}`, nil, []string{
			"prices[0]: provider and model are required",
			`prices[1] (p/a): input: usage: invalid USD amount "": empty`,
			`prices[2] (p/b): input: usage: invalid USD amount "-1": must not be negative`,
			`output: usage: invalid USD amount "x": not a decimal number`,
			"prices[4]: duplicate entry for p/c",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCatalog([]byte(tc.in))
			if len(tc.errs) > 0 {
				if err == nil {
					t.Fatal("ParseCatalog succeeded, want an error")
				}
				for _, s := range tc.errs {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.prices, tc.want); diff != "" {
				t.Errorf("prices (-got +want):\n%s", diff)
			}
		})
	}
}

// TestCatalogFileFormatted keeps prices.json readable: one entry per line,
// as written, so that diffs of price updates stay one line each.
func TestCatalogFileFormatted(t *testing.T) {
	for i, line := range bytes.Split(pricesJSON, []byte("\n")) {
		if bytes.Contains(line, []byte(`"provider":`)) && !bytes.HasSuffix(bytes.TrimSpace(line), []byte("},")) &&
			!bytes.HasSuffix(bytes.TrimSpace(line), []byte("}")) {
			t.Errorf("prices.json line %d: an entry must sit on one line", i+1)
		}
	}
}
