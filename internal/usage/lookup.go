package usage

import "strings"

// Lookup returns the price of model as served by the configured provider
// providerName of type providerType ("openai", "anthropic", "gemini", …).
// It tries, in order, and returns the first hit:
//
//  1. the override "providerName/model";
//  2. the override "model";
//  3. the catalog entry (providerType, model), then, for dated or suffixed
//     variants, the longest catalog model of that type that is a prefix of
//     model ending at a '-' ("gpt-4o-2024-08-06" → "gpt-4o",
//     "claude-sonnet-4-5-20250929" → "claude-sonnet-4-5");
//  4. the same under the provider type whose prices the type resells:
//     "azure" → "openai" (Azure OpenAI bills OpenAI's list prices for the
//     same model names); "openrouter" → the vendor in the model's prefix,
//     stripped ("openai/gpt-4o" → openai "gpt-4o"; also "anthropic/",
//     "google/" → gemini, "mistralai/" → mistral, "deepseek/");
//  5. the same under providerName taken as a type, when it differs from
//     providerType: a provider named "groq" or "mock" that is configured
//     with type "openai" (an OpenAI-compatible endpoint) gets the prices
//     of the service it names.
//
// An empty providerType is read as providerName. Lookup does not allocate.
func (c *Catalog) Lookup(providerName, providerType, model string) (Price, bool) {
	if m := c.byProviderModel[providerName]; m != nil {
		if p, ok := m[model]; ok {
			return p, true
		}
	}
	if p, ok := c.byModel[model]; ok {
		return p, true
	}
	if providerType == "" {
		providerType = providerName
	}
	if p, ok := c.catalog(providerType, model); ok {
		return p, true
	}
	if typ, name := resold(providerType, model); typ != "" {
		if p, ok := c.catalog(typ, name); ok {
			return p, true
		}
	}
	if providerName != providerType {
		if p, ok := c.catalog(providerName, model); ok {
			return p, true
		}
	}
	return Price{}, false
}

// catalog looks model up under typ exactly, then by '-'-bounded prefixes,
// longest first.
func (c *Catalog) catalog(typ, model string) (Price, bool) {
	m := c.prices[typ]
	if m == nil {
		return Price{}, false
	}
	if p, ok := m[model]; ok {
		return p, true
	}
	for i := len(model) - 1; i > 0; i-- {
		if model[i] != '-' {
			continue
		}
		if p, ok := m[model[:i]]; ok {
			return p, true
		}
	}
	return Price{}, false
}

// openRouterVendors maps OpenRouter's model-name prefixes to catalog types.
var openRouterVendors = [...]struct{ prefix, typ string }{
	{"openai/", "openai"},
	{"anthropic/", "anthropic"},
	{"google/", "gemini"},
	{"mistralai/", "mistral"},
	{"deepseek/", "deepseek"},
}

// resold returns the catalog type and model name to try for a provider type
// that resells another vendor's models, or "" when typ resells nothing.
func resold(typ, model string) (string, string) {
	switch typ {
	case "azure":
		return "openai", model
	case "openrouter":
		for _, v := range openRouterVendors {
			if rest, ok := strings.CutPrefix(model, v.prefix); ok {
				return v.typ, rest
			}
		}
	}
	return "", ""
}
