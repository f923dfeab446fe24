package telemetry

import (
	"errors"
	"io"
	"net"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/store"
)

// tcpProxy forwards 127.0.0.1 connections to a backend. While it is down
// it has closed every connection and closes new ones at once, as a
// database that went away would look to its clients.
type tcpProxy struct {
	ln      net.Listener
	backend string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func newTCPProxy(t *testing.T, backend string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, backend: backend, conns: map[net.Conn]bool{}}
	p.wg.Go(p.serve)
	t.Cleanup(func() {
		ln.Close()
		p.setDown(true)
		p.wg.Wait()
	})
	return p
}

func (p *tcpProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		b, err := net.DialTimeout("tcp", p.backend, 5*time.Second)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[b] = true, true
		p.mu.Unlock()
		p.wg.Go(func() { io.Copy(b, c); b.Close(); c.Close() })
		p.wg.Go(func() { io.Copy(c, b); b.Close(); c.Close() })
	}
}

// setDown switches the proxy; going down closes every open connection.
func (p *tcpProxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}

func TestPipelinePostgresOutageThroughProxy(t *testing.T) {
	dsn := postgresDSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newTCPProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	db := openStore(t, store.Config{Driver: store.DriverPostgres, DSN: u.String()})

	tenant := uniqueTenant(t)
	want := testRecords(tenant, 400)
	p, _ := newTestPipeline(t, db, PipelineConfig{BatchSize: 40, WriteTimeout: 2 * time.Second})

	// Up: the first records go straight in.
	enqueueConcurrently(p, want[:100], 4)
	waitFor(t, "the first records written", func() bool { return p.Stats().Written == 100 })

	// Down: the rest spool, and replay keeps failing.
	proxy.setDown(true)
	enqueueConcurrently(p, want[100:], 4)
	waitFor(t, "the rest spooled", func() bool { return p.Stats().Spooled == 300 })
	if st := p.Stats(); st.Replayed != 0 || st.Written != 100 {
		t.Fatalf("stats while down = %+v", st)
	}

	// Back: the replay loop brings every spooled record in.
	proxy.setDown(false)
	waitFor(t, "replay after the outage", func() bool { return p.Stats().Replayed == 300 })
	closePipeline(t, p)
	if files := spoolFiles(t, p.cfg.SpoolDir); len(files) != 0 {
		t.Errorf("spool files left: %v", files)
	}
	got := sortByID(storedRecords(t, db, tenant))
	if diff := cmp.Diff(got, sortByID(slices.Clone(want))); diff != "" {
		t.Errorf("stored records (-got +want):\n%s", diff)
	}
	if st := p.Stats(); st.Dropped != 0 || st.Enqueued != 400 {
		t.Errorf("stats = %+v", st)
	}
}

// TestTCPProxySwitch guards the test's own proxy: down refuses, up
// forwards.
func TestTCPProxySwitch(t *testing.T) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	proxy := newTCPProxy(t, echo.Addr().String())
	roundTrip := func() error {
		c, err := net.DialTimeout("tcp", proxy.ln.Addr().String(), 5*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte("ping")); err != nil {
			return err
		}
		b := make([]byte, 4)
		if _, err := io.ReadFull(c, b); err != nil {
			return err
		}
		if string(b) != "ping" {
			return errors.New("echo mismatch")
		}
		return nil
	}
	if err := roundTrip(); err != nil {
		t.Fatalf("up: %v", err)
	}
	proxy.setDown(true)
	if err := roundTrip(); err == nil {
		t.Fatal("down: round trip succeeded")
	}
	proxy.setDown(false)
	if err := roundTrip(); err != nil {
		t.Fatalf("up again: %v", err)
	}
}
