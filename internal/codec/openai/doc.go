// Package openai converts between Sluice's canonical model (package llm) and
// OpenAI's Chat Completions, Embeddings and Models JSON, in both directions:
// client-facing (decode requests, encode responses and SSE streams) and
// upstream-facing (encode requests, decode responses, streams and errors) for
// the OpenAI provider adapter and every OpenAI-compatible server it serves.
package openai
