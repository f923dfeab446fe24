package gateway_test

import (
	"context"
	"errors"
	"github.com/sluicehq/sluice/internal/testdb"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/sluicehq/sluice/internal/store"
)

// tcpSwitch is a loopback TCP proxy that can be cut: down closes every
// connection and refuses new ones until up. It stands for a database
// server going away and coming back.
type tcpSwitch struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]struct{}
}

func newTCPSwitch(t *testing.T, target string) *tcpSwitch {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &tcpSwitch{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	t.Cleanup(func() { ln.Close(); s.set(true) })
	go s.serve()
	return s
}

func (s *tcpSwitch) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.down {
			s.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", s.target)
		if err != nil {
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.conns[c], s.conns[up] = struct{}{}, struct{}{}
		s.mu.Unlock()
		go func() { io.Copy(up, c); up.Close() }() //nolint:errcheck
		go func() { io.Copy(c, up); c.Close() }()  //nolint:errcheck
	}
}

// set cuts (down) or restores the connection.
func (s *tcpSwitch) set(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
	if down {
		for c := range s.conns {
			c.Close()
		}
		clear(s.conns)
	}
}

// postgresSchema makes a schema of its own in the test database and
// returns a DSN whose search_path points at it (the database is shared).
func postgresSchema(t *testing.T) *url.URL {
	t.Helper()
	u, err := url.Parse(testdb.PostgresDSN(t, "sluice_gw_"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestStoreOutageLosesNothing takes PostgreSQL away while the gateway
// serves, brings it back, and finds every request's record exactly once.
func TestStoreOutageLosesNothing(t *testing.T) {
	direct := postgresSchema(t)
	sw := newTCPSwitch(t, direct.Host)
	viaSwitch := *direct
	viaSwitch.Host = sw.ln.Addr().String()

	env := newEnvWith(t, "store: { driver: postgres, dsn: \""+viaSwitch.String()+"\" }\n"+
		"request_log: { flush_interval: 10ms, write_timeout: 500ms, retry_interval: 100ms }\n")
	var ids []string
	send := func(n int) {
		for range n {
			resp, body := env.post("/v1/chat/completions", chatBody)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			ids = append(ids, resp.Header.Get("X-Request-Id"))
		}
	}
	send(10)
	sw.set(true) // the database goes away
	send(30)     // and the gateway keeps serving
	time.Sleep(200 * time.Millisecond)
	send(10)
	sw.set(false)

	check, err := store.Open(context.Background(), store.Config{Driver: "postgres", DSN: direct.String()})
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	deadline := time.Now().Add(30 * time.Second)
	for _, id := range ids {
		for {
			_, err := check.GetLog(context.Background(), id)
			if err == nil {
				break
			}
			if !errors.Is(err, store.ErrNotFound) || time.Now().After(deadline) {
				t.Fatalf("record %s after the outage: %v", id, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	page, err := check.QueryLogs(context.Background(), store.LogFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if st := env.svc.Records.Stats(); st.Spooled == 0 || st.Replayed != st.Spooled || st.Dropped != 0 {
		t.Errorf("pipeline %+v: the outage should have spooled records and replayed them all", st)
	}
	if len(page.Records) != len(ids) {
		t.Errorf("%d records stored for %d requests", len(page.Records), len(ids))
	}
}
