// Package usage provides token counting, the pricing catalog and cost
// arithmetic. It estimates prompt and streamed-output tokens with OpenAI's
// tokenizers when a provider reports none, looks up per-model prices (an
// embedded, versioned catalog plus operator overrides) and turns llm.Usage
// into exact micro-dollar costs without floating point.
package usage
