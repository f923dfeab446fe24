package gateway

import (
	"fmt"

	anthropicp "github.com/sluicehq/sluice/internal/provider/anthropic"
	geminip "github.com/sluicehq/sluice/internal/provider/gemini"
	openaip "github.com/sluicehq/sluice/internal/provider/openai"

	"github.com/sluicehq/sluice/internal/provider"
)

// adapters is the one list of provider adapters, by wire format. Every
// catalog type (provider.Kinds) maps to one of them.
var adapters = map[string]provider.Constructor{
	provider.WireOpenAI:    openaip.New,
	provider.WireAnthropic: anthropicp.New,
	provider.WireGemini:    geminip.New,
}

// newProvider builds the adapter for pc.Type, filling in the catalog's
// default base URL.
func newProvider(pc provider.Config) (provider.Provider, error) {
	kind, ok := provider.LookupKind(pc.Type)
	if !ok {
		return nil, fmt.Errorf("unknown provider type %q", pc.Type)
	}
	if pc.BaseURL == "" {
		pc.BaseURL = kind.BaseURL
	}
	ctor, ok := adapters[kind.Wire]
	if !ok {
		return nil, fmt.Errorf("no adapter for wire format %q", kind.Wire)
	}
	return ctor(pc)
}
