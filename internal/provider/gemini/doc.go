// Package gemini is the provider adapter for Google's Gemini API (the
// Generative Language API): chat and streamed chat through generateContent
// and streamGenerateContent, embeddings, the model list and passthrough.
// The wire translation lives in internal/codec/gemini; this package owns
// URLs, credentials and HTTP.
package gemini
