// Package mock is a fake LLM provider for tests, benchmarks and the
// zero-setup demo: one http.Handler that speaks the OpenAI (and Azure),
// Anthropic and Gemini wire APIs, echoes the last user message back, and can
// be told over a control API under /_mock/ to fail, stall or drop connections.
// It writes its wire JSON itself, independently of the gateway's codecs
// (sharing only package jsonw's primitives, which are fuzzed against
// encoding/json), so that a codec bug shows up in tests instead of being
// mirrored; README.md lists the routes, the answer rules, the
// token-count formula and the simulated prompt caching.
package mock
