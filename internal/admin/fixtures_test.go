package admin

import (
	"context"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/store"
)

// t0 is the first hour of the fixture records (testNow is 3 hours later).
var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// fixtureRecords are the records the API tests insert: three hours of
// traffic across tenants, teams, keys, providers, statuses and cache
// outcomes, one record a day older (outside usage's default range), and
// two (r00, r01) at the same instant to exercise the cursor's tie-break.
// r01 and r05 share a client request id, as a client's retry would, and
// were served by the replica sluice-1 (the others name none).
func fixtureRecords() []store.Record {
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	return []store.Record{
		{ID: "r00", Time: at(0), TenantID: "t1", TeamID: "a", KeyID: "k2", ClientIP: "10.0.0.2",
			Route: "/v1/chat/completions", ModelRequested: "nope", Status: 404,
			ErrorCode: "model_not_found", ErrorType: "invalid_request_error", LatencyMicros: 700, UserAgent: "curl/8"},
		{ID: "r01", ClientRequestID: "envoy-1", Time: at(0), TenantID: "t1", TeamID: "a", KeyID: "k1", ClientIP: "10.0.0.1",
			Route: "/v1/chat/completions", ModelRequested: "chat-default", Provider: "oai", Model: "gpt-4o-mini",
			Attempts: 1, Status: 200, CacheStatus: "miss", PromptTokens: 100, CompletionTokens: 20,
			CostMicros: 150, PriceKnown: true, LatencyMicros: 1_200_000, TTFTMicros: 300_000,
			Metadata: map[string]string{"team": `"a"`, "n": `42`}, UserAgent: "openai-python/1.0", Node: "sluice-1"},
		{ID: "r02", ClientRequestID: "envoy-2", Time: at(10 * time.Minute), TenantID: "t1", TeamID: "b", KeyID: "k2",
			Route: "/v1/messages", ModelRequested: "claude-x", Provider: "anth", Model: "claude-x", Attempts: 1,
			Status: 429, ErrorCode: "rate_limited", ErrorType: "rate_limit_error", LatencyMicros: 50_000,
			PromptTokens: 30, Estimated: true, Metadata: map[string]string{"n": `"42"`}},
		{ID: "r03", Time: at(20 * time.Minute), TenantID: "t2", TeamID: "a", KeyID: "k1",
			Route: "/v1/chat/completions", ModelRequested: "gpt-4o", Provider: "oai", Model: "gpt-4o", Attempts: 3,
			Status: 500, ErrorType: "api_error", CacheStatus: "bypass", LatencyMicros: 2_000_000,
			Guardrails: []string{"pii:redact"}, Metadata: map[string]string{"ok": `true`}},
		{ID: "r04", Time: at(30 * time.Minute), TenantID: "t2", TeamID: "b", KeyID: "k3",
			Route: "/v1/chat/completions", ModelRequested: "chat-default", Provider: "oai", Model: "gpt-4o-mini",
			Attempts: 1, Status: 200, CacheStatus: "hit", PromptTokens: 100, CompletionTokens: 20, CachedTokens: 100,
			SavedMicros: 900, PriceKnown: true, LatencyMicros: 5_000, TTFTMicros: 4_000,
			RequestBody:  []byte(`{"model":"chat-default","messages":[{"role":"user","content":"hi"}]}`),
			ResponseBody: []byte{0x1f, 0x8b, 0x08, 0x00}, PayloadTruncated: true},
		{ID: "r05", ClientRequestID: "envoy-1", Time: at(90 * time.Minute), TenantID: "t1", TeamID: "a", KeyID: "k1",
			Route: "/v1/chat/completions", ModelRequested: "chat-default", Provider: "anth", Model: "claude-x",
			Attempts: 2, Status: 200, Stream: true, CacheStatus: "hit", PromptTokens: 200, CompletionTokens: 50,
			CachedTokens: 200, SavedMicros: 1_200, PriceKnown: true, LatencyMicros: 800_000, TTFTMicros: 100_000,
			Metadata: map[string]string{"team": `"a"`}, Node: "sluice-1"},
		{ID: "r06", Time: at(165 * time.Minute), TenantID: "t1", TeamID: "a", KeyID: "k2",
			Route: "/v1/chat/completions", ModelRequested: "gpt-4o", Provider: "oai", Model: "gpt-4o", Attempts: 1,
			Status: 200, Stream: true, CacheStatus: "miss", PromptTokens: 1_000, CompletionTokens: 400,
			CachedTokens: 500, ReasoningTokens: 100, CostMicros: 2_500, PriceKnown: true,
			LatencyMicros: 3_000_000, TTFTMicros: 500_000},
		{ID: "r07", Time: at(-26 * time.Hour), TenantID: "t1", TeamID: "a", KeyID: "k1",
			Route: "/v1/embeddings", ModelRequested: "gpt-4o", Provider: "oai", Model: "gpt-4o", Attempts: 1,
			Status: 200, PromptTokens: 10, CostMicros: 1, PriceKnown: true, LatencyMicros: 90_000},
	}
}

// seeded inserts the fixture records into db and serves the API over it.
func seeded(t *testing.T, db *store.DB) string {
	t.Helper()
	if err := db.InsertLogs(context.Background(), fixtureRecords()); err != nil {
		t.Fatalf("InsertLogs: %v", err)
	}
	base, _ := serve(t, db, Options{AdminKey: testKey})
	return base
}
