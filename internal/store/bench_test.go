package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// benchBatch is the request-log writer's default batch size.
const benchBatch = 500

func BenchmarkInsertLogsSQLite(b *testing.B) { benchInsertLogs(b, openTest(b, sqliteConfig(b))) }

func BenchmarkInsertLogsPostgres(b *testing.B) { benchInsertLogs(b, openTest(b, postgresConfig(b))) }

// benchInsertLogs inserts batches of typical records (metadata, no
// payloads) with fresh IDs, as the log writer does.
func benchInsertLogs(b *testing.B, db *DB) {
	recs := make([]Record, benchBatch)
	for i := range recs {
		recs[i] = Record{
			Time: t0, TenantID: "tenant-1", TeamID: "team-1", KeyID: "key-1", ClientIP: "203.0.113.7",
			Route: "/v1/chat/completions", ModelRequested: "chat-default", Provider: "openai", Model: "gpt-4o-mini",
			Attempts: 1, Status: 200, Stream: true, CacheStatus: "miss",
			PromptTokens: 812, CompletionTokens: 150, CostMicros: 211, PriceKnown: true,
			LatencyMicros: 912345, TTFTMicros: 210000, UserAgent: "openai-python/1.52.0",
			Metadata: map[string]string{"user": `"u-123"`, "env": `"prod"`},
		}
	}
	ctx := context.Background()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for i := range recs {
			n++
			recs[i].ID = fmt.Sprintf("req-%09d", n)
			recs[i].Time = t0.Add(time.Duration(n) * time.Millisecond)
		}
		if err := db.InsertLogs(ctx, recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "records/s")
}
