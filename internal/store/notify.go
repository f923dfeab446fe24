package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// ChangesChannel is the PostgreSQL channel on which replicas announce
// changes to the state they cache (Notify, Listen). A channel belongs to
// the whole database: replicas using other schemas of it hear each other's
// topics too, which costs them a refresh and nothing else.
const ChangesChannel = "sluice_changes"

// Topics of Notify and Listen: what changed, so a listener reloads only
// that.
const (
	TopicKeys        = "keys"        // gateway keys
	TopicScopes      = "scopes"      // teams and tenants
	TopicCredentials = "credentials" // provider keys (the vault)
	// TopicAll is never sent: Listen passes it after reconnecting, when
	// notifications may have been missed and everything must be reloaded.
	TopicAll = "*"
)

// maxTopic bounds a topic (PostgreSQL's payload limit is 8,000 bytes).
const maxTopic = 64

// The listener's timing: reconnect backoff bounds, and how long it waits
// without a notification before it pings its connection (a peer that
// vanished without closing the socket is noticed within about that).
const (
	listenBackoffMin = 100 * time.Millisecond
	listenBackoffMax = 5 * time.Second
	listenIdlePing   = 30 * time.Second
	listenPingWait   = 5 * time.Second
)

// Notify announces topic to every Listen on this database, including this
// process's own. It is sent when the statement commits, so call it after
// the change it announces is stored. With SQLite it does nothing: one
// process owns the file.
func (db *DB) Notify(ctx context.Context, topic string) error {
	if db.d.name != DriverPostgres {
		return nil
	}
	if topic == "" || len(topic) > maxTopic || topic == TopicAll {
		return fmt.Errorf("store: notify: bad topic %q", topic)
	}
	if _, err := db.w.ExecContext(ctx, "SELECT pg_notify($1, $2)", ChangesChannel, topic); err != nil {
		return fmt.Errorf("store: notify %s: %w", topic, err)
	}
	return nil
}

// Listen calls fn with the topic of every Notify on this database until
// stop is called, from one goroutine of its own (fn must not block long:
// notifications wait meanwhile). It holds a dedicated connection (not one
// of the pool's) opened with the DB's connection string. When that
// connection fails, Listen reconnects with backoff (100 ms doubling to
// 5 s) and then calls fn(TopicAll), since notifications sent in between
// are lost. ctx bounds only the first connection, whose failure is
// returned; later failures are retried until stop. stop returns once fn
// will not be called again; it is idempotent.
//
// With SQLite, Listen returns a stop that does nothing: no other process
// writes the file.
func (db *DB) Listen(ctx context.Context, fn func(topic string)) (stop func(), err error) {
	if db.d.name != DriverPostgres {
		return func() {}, nil
	}
	if fn == nil {
		return nil, errors.New("store: listen: nil func")
	}
	l := &listener{dsn: db.dsn, fn: fn, done: make(chan struct{})}
	conn, err := l.connect(ctx)
	if err != nil {
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	go l.run(lctx, conn)
	var once sync.Once
	return func() {
		once.Do(cancel)
		<-l.done
	}, nil
}

// listener is one Listen's loop.
type listener struct {
	dsn  string // never shown: it may hold a password
	fn   func(topic string)
	done chan struct{} // closed when run returns
}

// connect opens the dedicated connection and subscribes it.
func (l *listener) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, l.dsn)
	if err != nil {
		return nil, redactDSN(fmt.Errorf("store: listen: connect: %w", err), l.dsn)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+ChangesChannel); err != nil {
		conn.Close(context.Background())
		return nil, redactDSN(fmt.Errorf("store: listen: %w", err), l.dsn)
	}
	return conn, nil
}

// run delivers notifications from conn, and from the connections that
// replace it, until ctx ends.
func (l *listener) run(ctx context.Context, conn *pgx.Conn) {
	defer close(l.done)
	for {
		l.receive(ctx, conn)
		closeListenConn(conn)
		if conn = l.reconnect(ctx); conn == nil {
			return
		}
		l.fn(TopicAll)
	}
}

// receive passes conn's notifications to fn until conn fails or ctx ends.
// An idle connection is pinged every listenIdlePing.
func (l *listener) receive(ctx context.Context, conn *pgx.Conn) {
	for {
		wctx, cancel := context.WithTimeout(ctx, listenIdlePing)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			if n.Channel == ChangesChannel {
				l.fn(n.Payload)
			}
		case errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed():
			pctx, cancel := context.WithTimeout(ctx, listenPingWait)
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return
			}
		default:
			return
		}
	}
}

// reconnect opens a new subscribed connection, waiting between attempts
// with jittered exponential backoff; nil once ctx has ended.
func (l *listener) reconnect(ctx context.Context) *pgx.Conn {
	wait := listenBackoffMin
	for {
		t := time.NewTimer(wait/2 + rand.N(wait/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		conn, err := l.connect(cctx)
		cancel()
		switch {
		case err == nil && ctx.Err() != nil:
			closeListenConn(conn)
			return nil
		case err == nil:
			return conn
		}
		wait = min(wait*2, listenBackoffMax)
	}
}

// closeListenConn closes conn without waiting long for a server that may
// be gone.
func closeListenConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn.Close(ctx)
}
