package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestNotifyAndListenSQLiteDoNothing(t *testing.T) {
	db := openTest(t, sqliteConfig(t))
	ctx := context.Background()
	var calls atomic.Int32
	stop, err := db.Listen(ctx, func(string) { calls.Add(1) })
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	if err := db.Notify(ctx, TopicKeys); err != nil {
		t.Errorf("Notify: %v", err)
	}
	stop()
	stop() // idempotent
	if n := calls.Load(); n != 0 {
		t.Errorf("fn called %d times on SQLite, want 0", n)
	}
}

// listenerDSN returns a fresh schema's DSN whose connections carry an
// application_name of their own, so the test can find its listener among
// the connections of every other test sharing the database.
func listenerDSN(t *testing.T) (dsn, app string) {
	t.Helper()
	u, err := url.Parse(postgresConfig(t).DSN)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	app = "sluicetest_listen_" + hex.EncodeToString(b)
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	return u.String(), app
}

// topics collects what a listener hears.
type topics chan string

func (c topics) fn(topic string) {
	select {
	case c <- topic:
	default: // a flood from other tests: the test only needs its own
	}
}

// await waits for topic, skipping others: the channel belongs to the
// whole database, so other tests' notifications arrive too.
func (c topics) await(t *testing.T, topic string) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case got := <-c:
			if got == topic {
				return time.Since(start)
			}
		case <-deadline:
			t.Fatalf("no %q within 10s", topic)
		}
	}
}

func TestListenPostgres(t *testing.T) {
	dsn, app := listenerDSN(t)
	db := openTest(t, Config{Driver: DriverPostgres, DSN: dsn})
	ctx := context.Background()
	heard := make(topics, 64)
	var stopped atomic.Bool
	var late atomic.Int32
	stop, err := db.Listen(ctx, func(topic string) {
		if stopped.Load() {
			late.Add(1)
		}
		heard.fn(topic)
	})
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(stop)

	if err := db.Notify(ctx, TopicKeys); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	t.Logf("notify to listener: %v", heard.await(t, TopicKeys))

	// The listener's connection is cut: it reconnects and says "*".
	var killed int
	err = db.w.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND query LIKE 'LISTEN %'`, app).Scan(&killed)
	if err != nil {
		t.Fatalf("terminate the listener: %v", err)
	}
	if killed != 1 {
		t.Fatalf("terminated %d listener connections, want 1", killed)
	}
	t.Logf("reconnect after termination: %v", heard.await(t, TopicAll))
	if err := db.Notify(ctx, TopicCredentials); err != nil {
		t.Fatalf("Notify after reconnect: %v", err)
	}
	heard.await(t, TopicCredentials)

	stop()
	stopped.Store(true)
	if err := db.Notify(ctx, TopicScopes); err != nil {
		t.Fatalf("Notify after stop: %v", err)
	}
	time.Sleep(50 * time.Millisecond)
	if n := late.Load(); n != 0 {
		t.Errorf("fn called %d times after stop returned", n)
	}
}

func TestNotifyRefusesBadTopics(t *testing.T) {
	db := openTest(t, postgresConfig(t))
	for _, topic := range []string{"", TopicAll, strings.Repeat("k", maxTopic+1)} {
		if err := db.Notify(context.Background(), topic); err == nil {
			t.Errorf("Notify(%q) = nil, want an error", topic)
		}
	}
}

// TestListenErrorHidesPassword guards against the connection string
// reaching an error: it may hold a password.
func TestListenErrorHidesPassword(t *testing.T) {
	const password = "s3cret-pw-xyz"
	db := &DB{d: postgresDialect, dsn: "postgres://sluice:" + password + "@127.0.0.1:1/nothing?connect_timeout=2"}
	stop, err := db.Listen(context.Background(), func(string) {})
	if err == nil {
		stop()
		t.Fatal("Listen to a closed port succeeded")
	}
	if strings.Contains(err.Error(), password) {
		t.Errorf("error shows the password: %v", err)
	}
}

// BenchmarkNotify is the cost of announcing one change on PostgreSQL (a
// round trip on the pool).
func BenchmarkNotify(b *testing.B) {
	db := openTest(b, postgresConfig(b))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := db.Notify(ctx, TopicKeys); err != nil {
			b.Fatal(err)
		}
	}
}
