package gateway

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/store"
)

func openEventStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{DSN: filepath.Join(t.TempDir(), "s.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestEventsWithoutAStoreAreDroppedSilently(t *testing.T) {
	var g *Gateway
	g.event(store.Event{Kind: "k"}) // nil gateway
	(&Gateway{}).event(store.Event{Kind: "k"})
	var s *eventSink
	s.close()
}

func TestEventsAreWrittenAndCloseDrainsTheQueue(t *testing.T) {
	db := openEventStore(t)
	s := newEventSink(db, slog.New(slog.DiscardHandler))
	when := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	s.now = func() time.Time { return when }
	g := &Gateway{events: s}
	for range 50 {
		g.event(store.Event{Kind: "traffic.spike", Subject: "ip:192.0.2.1"})
	}
	s.close()
	s.close() // idempotent
	g.event(store.Event{Kind: "after.close"})
	es, _, err := db.ListEvents(context.Background(), store.EventFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 50 || s.written.Load() != 50 {
		t.Fatalf("%d events stored (%d counted), want 50", len(es), s.written.Load())
	}
	if !es[0].Time.Equal(when) {
		t.Errorf("event time %v, want the time it was added (%v)", es[0].Time, when)
	}
	if s.dropped.Load() != 1 {
		t.Errorf("dropped = %d, want 1 (the event after close)", s.dropped.Load())
	}
}

// TestAFullEventQueueDropsAndNeverBlocks: with the writer stuck, add
// returns at once and counts what it could not queue.
func TestAFullEventQueueDropsAndNeverBlocks(t *testing.T) {
	db := openEventStore(t)
	// A sink whose goroutine has not started: nothing drains the queue.
	s := &eventSink{db: db, log: slog.New(slog.DiscardHandler), queue: make(chan store.Event, eventQueueSize),
		stop: make(chan struct{}), done: make(chan struct{}), now: time.Now}
	start := time.Now()
	for range eventQueueSize + 10 {
		s.add(store.Event{Kind: "k"})
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("adding to a full queue took %v", d)
	}
	if s.dropped.Load() != 10 {
		t.Errorf("dropped = %d, want 10", s.dropped.Load())
	}
	go s.run()
	s.close()
	if s.written.Load() != eventQueueSize {
		t.Errorf("written = %d, want %d", s.written.Load(), eventQueueSize)
	}
}

func BenchmarkEventAdd(b *testing.B) {
	s := &eventSink{log: slog.New(slog.DiscardHandler), queue: make(chan store.Event, eventQueueSize), now: time.Now}
	go func() {
		for range s.queue {
		}
	}()
	b.ReportAllocs()
	for b.Loop() {
		s.add(store.Event{Kind: "traffic.spike", Subject: "key:k"})
	}
}
