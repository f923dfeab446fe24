// Package router turns the model a client asked for into an ordered plan
// of candidate targets (provider + upstream model) and runs a call against
// them. Virtual models come from config and order their targets by a
// strategy (weighted, fallback, least-latency, least-busy, cost), possibly
// nesting other virtual models; "provider/model" addresses a provider
// directly. Run retries a target with backoff (honouring Retry-After),
// falls back to the next candidate on retryable failures (and, where the
// policy says, on context-length or content-policy refusals), applies
// attempt and request timeouts, and skips targets whose circuit breaker
// (Health, shared across config reloads) is open. Regions filter the
// candidates of a pinned caller before any of that.
package router
