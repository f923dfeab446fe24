package provider

// Wire formats an adapter can speak.
const (
	WireOpenAI    = "openai"
	WireAnthropic = "anthropic"
	WireGemini    = "gemini"
)

// Kind describes one provider type users can configure.
type Kind struct {
	// Type is the value of a provider's "type" in config.
	Type string
	// Wire is the API format the adapter speaks.
	Wire string
	// BaseURL is the default API root; empty means base_url is required.
	BaseURL string
	// EnvKey is the environment variable that holds the API key and, in the
	// embedded default config, switches the provider on.
	EnvKey string
	// KeyOptional says the provider works without an API key (local servers).
	KeyOptional bool
}

// Kinds is the catalog of provider types, in the order they are documented.
var Kinds = []Kind{
	{Type: "openai", Wire: WireOpenAI, BaseURL: "https://api.openai.com/v1", EnvKey: "OPENAI_API_KEY"},
	{Type: "azure", Wire: WireOpenAI},
	{Type: "anthropic", Wire: WireAnthropic, BaseURL: "https://api.anthropic.com", EnvKey: "ANTHROPIC_API_KEY"},
	{Type: "gemini", Wire: WireGemini, BaseURL: "https://generativelanguage.googleapis.com", EnvKey: "GEMINI_API_KEY"},
	{Type: "mistral", Wire: WireOpenAI, BaseURL: "https://api.mistral.ai/v1", EnvKey: "MISTRAL_API_KEY"},
	{Type: "groq", Wire: WireOpenAI, BaseURL: "https://api.groq.com/openai/v1", EnvKey: "GROQ_API_KEY"},
	{Type: "deepseek", Wire: WireOpenAI, BaseURL: "https://api.deepseek.com/v1", EnvKey: "DEEPSEEK_API_KEY"},
	{Type: "openrouter", Wire: WireOpenAI, BaseURL: "https://openrouter.ai/api/v1", EnvKey: "OPENROUTER_API_KEY"},
	{Type: "together", Wire: WireOpenAI, BaseURL: "https://api.together.xyz/v1", EnvKey: "TOGETHER_API_KEY"},
	{Type: "ollama", Wire: WireOpenAI, BaseURL: "http://127.0.0.1:11434/v1", KeyOptional: true},
	{Type: "vllm", Wire: WireOpenAI, KeyOptional: true},
	{Type: "lmstudio", Wire: WireOpenAI, BaseURL: "http://127.0.0.1:1234/v1", KeyOptional: true},
}

// LookupKind returns the catalog entry for a provider type.
func LookupKind(typ string) (Kind, bool) {
	for _, k := range Kinds {
		if k.Type == typ {
			return k, true
		}
	}
	return Kind{}, false
}
