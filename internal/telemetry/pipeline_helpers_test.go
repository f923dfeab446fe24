package telemetry

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"github.com/sluicehq/sluice/internal/testdb"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver for the test schema admin

	"github.com/sluicehq/sluice/internal/store"
)

// testRecord returns a record with every field set, distinct per (tenant,
// i), in the form the store gives back (UTC, microseconds, non-empty
// slices and maps).
func testRecord(tenant string, i int) store.Record {
	return store.Record{
		ID:               fmt.Sprintf("%s-req-%06d", tenant, i),
		ClientRequestID:  fmt.Sprintf("client-%d", i%50),
		Time:             time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC).Add(time.Duration(i) * time.Microsecond * 1001),
		TenantID:         tenant,
		TeamID:           "team-" + fmt.Sprint(i%3),
		KeyID:            "key-" + fmt.Sprint(i%7),
		ClientIP:         "10.0.0." + fmt.Sprint(i%250),
		Route:            "/v1/chat/completions",
		ModelRequested:   "chat-default",
		Provider:         "openai",
		Model:            "gpt-4o-mini",
		Attempts:         1 + i%3,
		Status:           []int{200, 429, 502}[i%3],
		ErrorCode:        "code-" + fmt.Sprint(i%2),
		ErrorType:        "type-" + fmt.Sprint(i%2),
		Stream:           i%2 == 0,
		CacheStatus:      []string{"hit", "miss", "bypass"}[i%3],
		Guardrails:       []string{"pii:redact", fmt.Sprintf("rule:%d", i)},
		PromptTokens:     100 + i,
		CompletionTokens: 50 + i,
		CachedTokens:     i % 10,
		CacheWriteTokens: i % 5,
		ReasoningTokens:  i % 4,
		Estimated:        i%5 == 0,
		CostMicros:       int64(1000 + i),
		SavedMicros:      int64(i % 100),
		PriceKnown:       i%6 != 0,
		LatencyMicros:    int64(20000 + i),
		TTFTMicros:       int64(3000 + i),
		Metadata:         map[string]string{"user": fmt.Sprintf("%q", fmt.Sprint("u", i)), "n": fmt.Sprint(i)},
		RequestBody:      []byte(fmt.Sprintf(`{"messages":[{"role":"user","content":"hi %d é \u2028"}]}`, i)),
		ResponseBody:     []byte{0, 1, 2, 0xff, byte(i)},
		PayloadTruncated: i%4 == 0,
		UserAgent:        "test/1.0 <&>",
	}
}

// testRecords returns n testRecords of one tenant.
func testRecords(tenant string, n int) []store.Record {
	out := make([]store.Record, n)
	for i := range out {
		out[i] = testRecord(tenant, i)
	}
	return out
}

// uniqueTenant names a tenant no other test uses, so tests sharing a
// PostgreSQL schema (or run again) never see each other's records.
func uniqueTenant(t testing.TB) string {
	b := make([]byte, 4)
	rand.Read(b)
	return "t" + hex.EncodeToString(b)
}

// openSQLite opens a fresh SQLite store in a temporary directory.
func openSQLite(t testing.TB) *store.DB {
	t.Helper()
	return openStore(t, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "data", "sluice.db")})
}

// postgresDSN returns a DSN for a fresh schema of the database named by
// SLUICE_TEST_POSTGRES, dropped when the test ends; it skips the test when
// the variable is unset.
func postgresDSN(t testing.TB) string {
	t.Helper()
	return testdb.PostgresDSN(t, "sluice_telemetry_")
}

// openStore opens cfg and closes it when the test ends.
func openStore(t testing.TB, cfg store.Config) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("store.Open(%s): %v", cfg.Driver, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// forEachStore runs fn against a fresh SQLite store and, when
// SLUICE_TEST_POSTGRES is set, a fresh PostgreSQL schema.
func forEachStore(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, openSQLite(t)) })
	t.Run("postgres", func(t *testing.T) {
		fn(t, openStore(t, store.Config{Driver: store.DriverPostgres, DSN: postgresDSN(t)}))
	})
}

// storedRecords returns every stored record of tenant, newest first.
func storedRecords(t testing.TB, logs store.Logs, tenant string) []store.Record {
	t.Helper()
	var out []store.Record
	f := store.LogFilter{TenantID: tenant, Limit: 1000}
	for {
		page, err := logs.QueryLogs(context.Background(), f)
		if err != nil {
			t.Fatalf("QueryLogs: %v", err)
		}
		out = append(out, page.Records...)
		if page.Next == "" {
			return out
		}
		f.Cursor = page.Next
	}
}

// flakyLogs is the real store behind a switch: while down is set, inserts
// fail at once; while gate is non-nil, inserts wait for it to close (or
// their context to end) before going through. Every call is counted.
type flakyLogs struct {
	store.Logs
	down    atomic.Bool
	gate    atomic.Pointer[chan struct{}]
	inserts atomic.Int64
}

func (f *flakyLogs) InsertLogs(ctx context.Context, recs []store.Record) error {
	f.inserts.Add(1)
	if g := f.gate.Load(); g != nil {
		select {
		case <-*g:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if f.down.Load() {
		return fmt.Errorf("flaky store: down")
	}
	return f.Logs.InsertLogs(ctx, recs)
}

// block makes inserts wait until the returned func is called.
func (f *flakyLogs) block() (release func()) {
	g := make(chan struct{})
	f.gate.Store(&g)
	return func() {
		f.gate.Store(nil)
		close(g)
	}
}

// logBuffer collects a pipeline's log lines; the test prints them when it
// fails.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// newTestPipeline starts a pipeline with test-friendly defaults (a fresh
// spool directory unless cfg names one, a log buffer, short intervals
// unless set) and closes it when the test ends.
func newTestPipeline(t testing.TB, logs store.Logs, cfg PipelineConfig) (*Pipeline, *logBuffer) {
	t.Helper()
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = filepath.Join(t.TempDir(), "spool")
	}
	if cfg.FlushInterval == 0 {
		cfg.FlushInterval = 5 * time.Millisecond
	}
	if cfg.RetryInterval == 0 {
		cfg.RetryInterval = 20 * time.Millisecond
	}
	lb := &logBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p, err := NewPipeline(logs, cfg)
	if err != nil {
		t.Fatalf("NewPipeline: %v", err)
	}
	t.Cleanup(func() {
		p.Close(context.Background())
		if t.Failed() {
			t.Logf("pipeline log:\n%s", lb)
		}
	})
	return p, lb
}

// closePipeline closes p with a generous deadline and fails on error.
func closePipeline(t testing.TB, p *Pipeline) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// waitFor polls cond until it holds, failing the test after 30s. It
// waits for background work to finish; it asserts nothing about speed.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// spoolFiles lists the spool files in dir.
func spoolFiles(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if _, ok := spoolKind(e.Name()); ok {
			out = append(out, e.Name())
		}
	}
	return out
}
