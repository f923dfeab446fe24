package openai

// quirks are the differences between OpenAI-compatible servers that the
// request encoder must respect. Everything else about the wire is shared.
type quirks struct {
	// topK: the server accepts top_k (OpenAI does not).
	topK bool
	// maxCompletionTokens: send max_completion_tokens; otherwise the older
	// max_tokens, which every compatible server knows. OpenAI's reasoning
	// models accept only the former.
	maxCompletionTokens bool
	// developerRole: the server knows the "developer" role; otherwise
	// developer messages are sent as "system", their older equivalent.
	developerRole bool
	// streamOptions: the server accepts stream_options. Servers without it
	// report usage in their last chunk unasked.
	streamOptions bool
}

// quirkTable holds the quirks of each provider type in the catalog
// (provider.Kinds) that speaks the OpenAI wire. Azure's GA api-version
// 2024-10-21, the adapter's default, predates the developer role.
var quirkTable = map[string]quirks{
	"openai":     {maxCompletionTokens: true, developerRole: true, streamOptions: true},
	"azure":      {maxCompletionTokens: true, streamOptions: true},
	"mistral":    {},
	"groq":       {maxCompletionTokens: true, streamOptions: true},
	"deepseek":   {streamOptions: true},
	"openrouter": {topK: true, streamOptions: true},
	"together":   {topK: true, streamOptions: true},
	"ollama":     {topK: true, streamOptions: true},
	"vllm":       {topK: true, maxCompletionTokens: true, streamOptions: true},
	"lmstudio":   {topK: true, streamOptions: true},
}

// quirksFor returns the quirks of a provider type; an empty or unknown type
// is treated as OpenAI itself.
func quirksFor(typ string) quirks {
	if q, ok := quirkTable[typ]; ok {
		return q
	}
	return quirkTable["openai"]
}

// effortForBudget maps a thinking-token budget (Anthropic, Gemini) to an
// OpenAI reasoning effort. The thresholds sit between the budgets Google's
// OpenAI-compatible endpoint uses for each effort (low 1,024, medium 8,192,
// high 24,576): up to 4,096 tokens is "low", up to 16,384 "medium", more
// "high".
func effortForBudget(budget int) string {
	switch {
	case budget <= 4096:
		return "low"
	case budget <= 16384:
		return "medium"
	}
	return "high"
}
