package gateway

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicehq/sluice/internal/store"
)

// eventQueueSize bounds the alert events waiting to be written. Events
// are rare (a spike, a budget crossing); a full queue means the store is
// stuck, and then dropping is better than growing.
const eventQueueSize = 1024

// eventWriteTimeout bounds one InsertEvent.
const eventWriteTimeout = 5 * time.Second

// eventSink writes alert events to the store off the request path: add
// never blocks, one goroutine drains the bounded queue, and what does not
// fit is dropped and counted.
type eventSink struct {
	db      *store.DB
	log     *slog.Logger
	queue   chan store.Event
	stop    chan struct{} // closed by close: drain what is queued, then exit
	done    chan struct{} // closed when the goroutine has exited
	closed  atomic.Bool
	once    sync.Once
	dropped atomic.Uint64
	written atomic.Uint64
	now     func() time.Time
}

// newEventSink starts the writer goroutine; close stops it.
func newEventSink(db *store.DB, log *slog.Logger) *eventSink {
	s := &eventSink{db: db, log: log, queue: make(chan store.Event, eventQueueSize),
		stop: make(chan struct{}), done: make(chan struct{}), now: time.Now}
	go s.run()
	return s
}

// add queues e, stamping a zero Time with the current time (when it
// happened, not when it is written). It never blocks: with the queue full
// or the sink closed, e is dropped and counted. A nil sink drops silently.
func (s *eventSink) add(e store.Event) {
	if s == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	if s.closed.Load() {
		s.drop(e)
		return
	}
	select {
	case s.queue <- e:
	default:
		s.drop(e)
	}
}

func (s *eventSink) drop(e store.Event) {
	// Log the first drop and then one in 1,000: a stuck store must not
	// also flood the log.
	if n := s.dropped.Add(1); n%1000 == 1 {
		s.log.Warn("alert event dropped: queue full or gateway closing", "kind", e.Kind, "subject", e.Subject,
			"dropped_total", n)
	}
}

func (s *eventSink) run() {
	defer close(s.done)
	for {
		select {
		case e := <-s.queue:
			s.write(e)
		case <-s.stop:
			for {
				select {
				case e := <-s.queue:
					s.write(e)
				default:
					return
				}
			}
		}
	}
}

func (s *eventSink) write(e store.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), eventWriteTimeout)
	defer cancel()
	if _, err := s.db.InsertEvent(ctx, e); err != nil {
		s.dropped.Add(1)
		s.log.Error("alert event not stored", "kind", e.Kind, "subject", e.Subject, "err", err)
		return
	}
	s.written.Add(1)
}

// close writes what is queued and stops the goroutine. Events added
// afterwards are dropped. It is idempotent and nil-safe.
func (s *eventSink) close() {
	if s == nil {
		return
	}
	s.once.Do(func() {
		s.closed.Store(true)
		close(s.stop)
		<-s.done
	})
}

// register exports the sink's counters to reg.
func (s *eventSink) register(reg *prometheus.Registry) {
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "sluice_events_written_total",
			Help: "Alert events stored."}, func() float64 { return float64(s.written.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "sluice_events_dropped_total",
			Help: "Alert events lost: queue full, gateway closing or store failing."},
			func() float64 { return float64(s.dropped.Load()) }),
	)
}

// event records an alert event off the request path: it never blocks,
// and without a store (or after Close) the event is dropped. Safe for
// concurrent use; e.Detail must not be modified afterwards.
func (g *Gateway) event(e store.Event) {
	if g == nil {
		return
	}
	g.events.add(e)
}
