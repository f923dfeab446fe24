package usage

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// pricesJSON is the embedded catalog; README.md says where its prices come
// from and how to update it.
//
//go:embed prices.json
var pricesJSON []byte

// Catalog maps (provider type, model) to a Price, with operator overrides on
// top. A Catalog is immutable once built and safe for concurrent use;
// WithOverrides returns a new one that shares the underlying tables.
type Catalog struct {
	version string
	// prices is the catalog proper: provider type → model → price.
	prices map[string]map[string]Price
	// byProviderModel holds overrides keyed "providerName/model", split at
	// the first '/': provider name → model → price.
	byProviderModel map[string]map[string]Price
	// byModel holds overrides keyed by the whole key (a bare model name, or
	// any key read as a model name that itself contains '/').
	byModel map[string]Price
}

// catalogFile is the JSON form of the catalog.
type catalogFile struct {
	// Version is the date (YYYY-MM-DD) the prices were last checked.
	Version string `json:"version"`
	// Sources maps a provider type to where its prices come from.
	Sources map[string]string `json:"sources"`
	Prices  []catalogEntry    `json:"prices"`
}

// catalogEntry is one model's price, amounts as decimal USD text per million
// tokens (per_request: USD per call). Empty optional amounts are zero.
type catalogEntry struct {
	Provider    string `json:"provider"`
	Model       string `json:"model"`
	Input       string `json:"input"`
	Output      string `json:"output"`
	CachedInput string `json:"cached_input,omitempty"`
	CacheWrite  string `json:"cache_write,omitempty"`
	PerRequest  string `json:"per_request,omitempty"`
	// Note is free text for maintainers (tiers not modelled, aliases).
	Note string `json:"note,omitempty"`
}

// ParseCatalog decodes a catalog file strictly: unknown fields, a version
// that is not a date, missing provider, model, input or output, invalid
// amounts and duplicate (provider, model) pairs are errors, all reported
// together with their paths.
func ParseCatalog(data []byte) (*Catalog, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f catalogFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("usage: decode catalog: %w", err)
	}
	if err := dec.Decode(&struct{}{}); err != io.EOF {
		return nil, errors.New("usage: decode catalog: data after the top-level object")
	}
	var errs []error
	if _, err := time.Parse(time.DateOnly, f.Version); err != nil {
		errs = append(errs, fmt.Errorf("version: %q is not a YYYY-MM-DD date", f.Version))
	}
	c := &Catalog{version: f.Version, prices: make(map[string]map[string]Price)}
	for i, e := range f.Prices {
		path := fmt.Sprintf("prices[%d]", i)
		if e.Provider == "" || e.Model == "" {
			errs = append(errs, fmt.Errorf("%s: provider and model are required", path))
			continue
		}
		p, err := e.price()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s (%s/%s): %w", path, e.Provider, e.Model, err))
			continue
		}
		m := c.prices[e.Provider]
		if m == nil {
			m = make(map[string]Price)
			c.prices[e.Provider] = m
		}
		if _, dup := m[e.Model]; dup {
			errs = append(errs, fmt.Errorf("%s: duplicate entry for %s/%s", path, e.Provider, e.Model))
			continue
		}
		m[e.Model] = p
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("usage: invalid catalog: %w", errors.Join(errs...))
	}
	return c, nil
}

// price converts an entry's decimal amounts.
func (e *catalogEntry) price() (Price, error) {
	var p Price
	var errs []error
	for _, f := range []struct {
		name     string
		text     string
		required bool
		dst      *int64
	}{
		{"input", e.Input, true, &p.Input},
		{"output", e.Output, true, &p.Output},
		{"cached_input", e.CachedInput, false, &p.CachedInput},
		{"cache_write", e.CacheWrite, false, &p.CacheWrite},
		{"per_request", e.PerRequest, false, &p.PerRequest},
	} {
		if f.text == "" && !f.required {
			continue
		}
		v, err := ParseUSD(f.text)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
			continue
		}
		*f.dst = v
	}
	return p, errors.Join(errs...)
}

// defaultCatalog parses the embedded file once.
var defaultCatalog = sync.OnceValues(func() (*Catalog, error) { return ParseCatalog(pricesJSON) })

// Default returns the catalog embedded in the binary. Its validity is
// guaranteed by this package's tests; were it ever malformed, Default would
// return an empty catalog (every Lookup fails, Version is "invalid") rather
// than panic.
func Default() *Catalog {
	c, err := defaultCatalog()
	if err != nil {
		return &Catalog{version: "invalid"}
	}
	return c
}

// Version returns the catalog's version: the date its prices were checked.
func (c *Catalog) Version() string { return c.version }

// WithOverrides returns a catalog whose Lookup consults o before the
// catalog. A key is "providerName/model" (the name of a configured provider,
// not its type) or a bare "model". Because model names may contain '/'
// ("openai/gpt-oss-120b" on Groq), a key with a '/' is also matched as a
// whole model name. Overrides already on c stay, with o's entries replacing
// those of the same key. Empty keys are ignored; a nil or empty o returns c.
func (c *Catalog) WithOverrides(o map[string]Price) *Catalog {
	if len(o) == 0 {
		return c
	}
	n := &Catalog{
		version:         c.version,
		prices:          c.prices,
		byProviderModel: make(map[string]map[string]Price, len(c.byProviderModel)),
		byModel:         make(map[string]Price, len(c.byModel)+len(o)),
	}
	for prov, models := range c.byProviderModel {
		m := make(map[string]Price, len(models))
		for k, v := range models {
			m[k] = v
		}
		n.byProviderModel[prov] = m
	}
	for k, v := range c.byModel {
		n.byModel[k] = v
	}
	for key, p := range o {
		if key == "" {
			continue
		}
		n.byModel[key] = p
		prov, model, ok := strings.Cut(key, "/")
		if !ok || prov == "" || model == "" {
			continue
		}
		m := n.byProviderModel[prov]
		if m == nil {
			m = make(map[string]Price)
			n.byProviderModel[prov] = m
		}
		m[model] = p
	}
	return n
}
