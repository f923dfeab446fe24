package usage

import (
	"encoding/json"
	"errors"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"
)

// plainDecimal is the grammar ParseUSD accepts.
var plainDecimal = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// scaledRat returns s×10^scale as an exact integer, or ok=false if s is not
// a number big.Rat reads, or the result is fractional, negative or too large
// for int64. It is the reference the parsers are held to.
func scaledRat(s string, scale int) (int64, bool) {
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() < 0 {
		return 0, false
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	if !r.IsInt() || !r.Num().IsInt64() {
		return 0, false
	}
	return r.Num().Int64(), true
}

func FuzzParseUSD(f *testing.F) {
	for _, tc := range parseUSDCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseUSD(s)
		want, refOK := int64(0), false
		if plainDecimal.MatchString(s) && len(s) < 400 {
			want, refOK = scaledRat(s, 6)
		}
		if err != nil {
			if refOK {
				t.Fatalf("ParseUSD(%q) failed (%v), but it is %d micro-dollars", s, err, want)
			}
			if !strings.HasPrefix(err.Error(), "usage: invalid USD amount ") {
				t.Fatalf("ParseUSD(%q) error %q lacks its prefix", s, err)
			}
			return
		}
		if !refOK || got != want {
			t.Fatalf("ParseUSD(%q) = %d; reference %d (ok=%v)", s, got, want, refOK)
		}
		back, err := ParseUSD(FormatUSD(got))
		if err != nil || back != got {
			t.Fatalf("ParseUSD(FormatUSD(%d)) = %d, %v", got, back, err)
		}
	})
}

func FuzzParseCustomCost(f *testing.F) {
	for _, tc := range customCostCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseCustomCost(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidCustomCost) {
				t.Fatalf("error %v does not wrap ErrInvalidCustomCost", err)
			}
			if len(err.Error()) > 200 {
				t.Fatalf("error message is %d bytes: %q", len(err.Error()), err)
			}
			return
		}
		// Hold every accepted header to encoding/json's reading of it.
		if len(s) > maxCustomCost || !json.Valid([]byte(s)) {
			t.Fatalf("accepted %q, which is too long or not JSON", s)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatalf("accepted %q, which encoding/json cannot read as an object: %v", s, err)
		}
		fields := map[string]int64{
			"per_token_in": got.Input, "per_token_out": got.Output,
			"per_token_cached_in": got.CachedInput, "per_request": got.PerRequest,
		}
		for key, raw := range m {
			v, ok := fields[key]
			if !ok {
				t.Fatalf("accepted unknown key %q in %q", key, s)
			}
			scale := 12
			if key == "per_request" {
				scale = 6
			}
			want, ok := scaledRat(string(raw), scale)
			if !ok || want != v {
				t.Fatalf("%s = %d, reference %d (ok=%v) for %s", key, v, want, ok, raw)
			}
		}
		if got.CacheWrite != 0 {
			t.Fatalf("CacheWrite = %d, want 0", got.CacheWrite)
		}
	})
}

// catalogSeed is a small catalog cut from the embedded file: its header and
// first and last entries. (The whole file as a seed slows the fuzzer's
// mutator to a crawl; the unit tests cover the whole file.)
func catalogSeed() []byte {
	var entries []string
	for _, line := range strings.Split(string(pricesJSON), "\n") {
		if strings.Contains(line, `"provider":`) {
			entries = append(entries, strings.TrimSuffix(strings.TrimSpace(line), ","))
		}
	}
	return []byte(`{"version":"2026-11-25","sources":{"openai":"example"},"prices":[` +
		entries[0] + "," + entries[len(entries)-1] + "]}")
}

func FuzzParseCatalog(f *testing.F) {
	f.Add(catalogSeed())
	f.Add([]byte(`{"version":"2026-01-02","prices":[{"provider":"p","model":"m","input":"1","output":"2"}]}`))
	f.Add([]byte(`{"version":"2026-01-02","prices":[{"provider":"p","model":"m","input":"1","output":"2"},{"provider":"p","model":"m","input":"1","output":"2"}]}`))
	f.Add([]byte(`{"version":"x","sources":{"a":"b"},"prices":[{"provider":"","model":"m","input":"-1","output":"1e3"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCatalog(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "usage: ") {
				t.Fatalf("error %q lacks its prefix", err)
			}
			return
		}
		if _, err := time.Parse(time.DateOnly, c.Version()); err != nil {
			t.Fatalf("accepted version %q", c.Version())
		}
		for typ, models := range c.prices {
			for model, p := range models {
				if typ == "" || model == "" {
					t.Fatalf("accepted an empty provider or model: %q/%q", typ, model)
				}
				if p.Input < 0 || p.Output < 0 || p.CachedInput < 0 || p.CacheWrite < 0 || p.PerRequest < 0 {
					t.Fatalf("accepted a negative price for %s/%s: %+v", typ, model, p)
				}
				if got, ok := c.Lookup(typ, typ, model); !ok || got != p {
					t.Fatalf("%s/%s does not resolve to itself", typ, model)
				}
			}
		}
	})
}

// FuzzCounter holds a Counter fed in fragments to the count of the joined
// text (below the limit, where Counter is exact).
func FuzzCounter(f *testing.F) {
	f.Add("hello world", uint8(3), "gpt-4o")
	f.Add("日本語のテキスト", uint8(4), "gpt-4")
	f.Add("tiktoken is great!\n\n  x", uint8(1), "claude-sonnet-4-5")
	f.Fuzz(func(t *testing.T, text string, step uint8, model string) {
		if len(text) > 4096 {
			return
		}
		n := int(step%16) + 1
		var c Counter
		for rest := text; rest != ""; {
			k := min(n, len(rest))
			c.Add(rest[:k])
			rest = rest[k:]
		}
		if got, want := c.Tokens(model), CountText(model, text); got != want {
			t.Fatalf("Counter in %d-byte fragments = %d, CountText = %d", n, got, want)
		}
		if c.Len() != int64(len(text)) {
			t.Fatalf("Len = %d, want %d", c.Len(), len(text))
		}
	})
}
