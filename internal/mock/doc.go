// Package mock is a fake LLM provider for tests, benchmarks and the
// zero-setup demo: one http.Handler that speaks the OpenAI (and Azure),
// Anthropic and Gemini wire APIs, echoes the last user message back, and can
// be told over a control API under /_mock/ to fail, stall or drop connections.
// It writes its wire JSON itself, independently of the gateway's codecs
// (sharing only package jsonw's primitives, which are fuzzed against
// encoding/json), so that a codec bug shows up in tests instead of being
// mirrored; README.md lists the routes, the answer rules, the
// token-count formula and the simulated prompt caching.
//
// Embeddings are deterministic. A text is embedded as a hashed bag of words
// (stop words dropped, light stemming; see wordVector), so wording decides
// similarity the way meaning does for a real model: with 16 or more
// dimensions "What is the capital of France?" and "Tell me the capital of
// France" have cosine similarity 0.82 and "How do I bake bread?" is at 0
// to both; identical word bags (case, punctuation, "capitals" and
// "capital") give 1. At the default 8 dimensions words collide more often
// (the first pair is 0.71), so semantic tests should ask for 64 or more.
// Token-array inputs get pseudo-random unit vectors seeded by their hash.
package mock
