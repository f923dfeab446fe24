package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/store"
)

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newTestGateway builds a gateway over the in-process mock with a store
// in a temporary directory; yaml is appended to a minimal config.
func newTestGateway(t testing.TB, yaml string) (*Gateway, *store.DB, *syncBuffer) {
	t.Helper()
	text := "server: { data_dir: \"" + t.TempDir() + "\" }\nrequest_log: { enabled: false }\nmock: { enabled: true }\n" +
		"models:\n  - name: chat-default\n    targets: [ { provider: mock, model: echo } ]\n" + yaml
	cfg, err := config.Parse([]byte(text), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc, err := OpenServices(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(context.Background()) })
	g, err := New(cfg, svc.Options(log, "admin-key-for-tests-0123"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	return g, svc.Store, logs
}

const spikeChat = `{"model":"chat-default","messages":[{"role":"user","content":"hi"}]}`

// send serves one chat request from addr (host:port) with an optional
// bearer.
func send(g *Gateway, addr, bearer string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(spikeChat))
	req.RemoteAddr = addr
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	w := httptest.NewRecorder()
	g.Handler().ServeHTTP(w, req)
	return w
}

// waitEvents polls the store until it holds n events of kind (or fails
// after 10s), then checks no more arrive for a moment.
func waitEvents(t *testing.T, db *store.DB, kind string, n int) []store.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		es, _, err := db.ListEvents(context.Background(), store.EventFilter{Kind: kind})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) >= n || time.Now().After(deadline) {
			time.Sleep(50 * time.Millisecond)
			es, _, _ = db.ListEvents(context.Background(), store.EventFilter{Kind: kind})
			if len(es) != n {
				t.Fatalf("%d %s events, want %d: %+v", len(es), kind, n, es)
			}
			return es
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// spikeYAML: 1s windows, a 10s baseline, 10×, at least 10 requests, a 5s
// cool-down — the defaults scaled down 10× so the test stays small.
const spikeYAML = "auth:\n  require_keys: false\n  spike: { enabled: true, factor: 10, window: 1s, baseline: 10s, min_requests: 10, cooldown: 5s }\n"

// useSpikeClock rebuilds g's spike guard on clock c.
func useSpikeClock(t testing.TB, g *Gateway, c *testClock) {
	t.Helper()
	s, err := newSpikeGuard(g.cfg.Auth.Spike, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	g.spike = s
}

// baseline sends perSecond requests a second for secs seconds from addr.
func baseline(t *testing.T, g *Gateway, c *testClock, addr, bearer string, perSecond, secs int) {
	t.Helper()
	for i := range perSecond * secs {
		if w := send(g, addr, bearer); w.Code != 200 {
			t.Fatalf("steady request %d: %d %s", i, w.Code, w.Body)
		}
		c.Advance(time.Second / time.Duration(perSecond))
	}
}

func TestTrafficSpikeFromAnAddress(t *testing.T) {
	g, db, logs := newTestGateway(t, spikeYAML)
	c := &testClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	useSpikeClock(t, g, c)
	const addr = "198.51.100.7:5000"

	// Steady at the baseline: 2 a second for 30 seconds never trips.
	baseline(t, g, c, addr, "", 2, 30)

	// 20× the baseline: 40 in one second. The 21st exceeds 10 × 2.
	var codes []int
	var first *httptest.ResponseRecorder
	for range 40 {
		w := send(g, addr, "")
		codes = append(codes, w.Code)
		if w.Code == 429 && first == nil {
			first = w
		}
		c.Advance(25 * time.Millisecond)
	}
	if first == nil {
		t.Fatalf("a 20× jump was not throttled: %v", codes)
	}
	if codes[19] != 200 || codes[20] != 429 || codes[39] != 429 {
		t.Errorf("codes %v: want 200 for the first 20, 429 from the 21st", codes)
	}
	if ra := first.Header().Get("Retry-After"); ra != "5" {
		t.Errorf("Retry-After %q, want 5 (the cool-down)", ra)
	}
	body := first.Body.String()
	if !strings.Contains(body, `"code":"rate_limit_exceeded"`) || !strings.Contains(body, "traffic spike") {
		t.Errorf("429 body %s: want code rate_limit_exceeded and a message about a traffic spike", body)
	}
	// Another address is not affected.
	if w := send(g, "198.51.100.8:5000", ""); w.Code != 200 {
		t.Errorf("another address: %d", w.Code)
	}
	// Still in the cool-down: Retry-After counts down.
	c.Advance(2 * time.Second)
	if w := send(g, addr, ""); w.Code != 429 || w.Header().Get("Retry-After") != "3" {
		t.Errorf("2s later: %d, Retry-After %q; want 429 and 3", w.Code, w.Header().Get("Retry-After"))
	}
	es := waitEvents(t, db, "traffic.spike", 1)
	e := es[0]
	if e.Subject != "ip:198.51.100.7" || e.Severity != store.SeverityWarning || e.Detail["requests"] != "21" ||
		e.Detail["baseline"] != "2.0" || !strings.Contains(e.Message, "traffic spike") {
		t.Errorf("event %+v", e)
	}
	// After the cool-down, baseline traffic passes again.
	c.Advance(3 * time.Second)
	baseline(t, g, c, addr, "", 2, 20)
	waitEvents(t, db, "traffic.spike", 1) // still once
	if !strings.Contains(logs.String(), "traffic spike: throttling") {
		t.Error("the trip is not logged")
	}
	if g.spike.trips.Load() != 1 || g.spike.throttled.Load() != 21 {
		t.Errorf("trips %d throttled %d, want 1 and 21", g.spike.trips.Load(), g.spike.throttled.Load())
	}
}

// TestTrafficSpikeOnAKey: a key spread over many addresses is caught by
// its own baseline.
func TestTrafficSpikeOnAKey(t *testing.T) {
	g, db, _ := newTestGateway(t, spikeYAML)
	c := &testClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	useSpikeClock(t, g, c)
	w := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/admin/v1/keys", strings.NewReader(`{"name":"app"}`))
	req.Header.Set("Authorization", "Bearer admin-key-for-tests-0123")
	req.Header.Set("Content-Type", "application/json")
	g.Handler().ServeHTTP(w, req)
	if w.Code != 201 {
		t.Fatalf("create key: %d %s", w.Code, w.Body)
	}
	var created struct{ ID, Key string }
	if err := json.Unmarshal(w.Body.Bytes(), &created); err != nil {
		t.Fatal(err)
	}
	baseline(t, g, c, "192.0.2.1:1", created.Key, 2, 30)
	throttled := 0
	for i := range 60 { // 60 in one second, each from its own address
		addr := "203.0.113." + strconv.Itoa(i) + ":1"
		if w := send(g, addr, created.Key); w.Code == 429 {
			throttled++
		}
		c.Advance(15 * time.Millisecond)
	}
	if throttled != 40 {
		t.Errorf("%d of 60 throttled, want 40 (everything past 10 × 2)", throttled)
	}
	e := waitEvents(t, db, "traffic.spike", 1)[0]
	if e.Subject != "key:"+created.ID {
		t.Errorf("event subject %q, want key:%s", e.Subject, created.ID)
	}
}

func TestSpikeOffByDefault(t *testing.T) {
	g, _, _ := newTestGateway(t, "auth: { require_keys: false }\n")
	if g.spike != nil {
		t.Fatal("auth.spike is on without being enabled")
	}
	for i := range 300 {
		if w := send(g, "198.51.100.7:1", ""); w.Code != 200 {
			t.Fatalf("request %d: %d", i, w.Code)
		}
	}
}

// BenchmarkCheckSpike is the guard's cost per request: one address and
// one key looked up and counted.
func BenchmarkCheckSpike(b *testing.B) {
	s, err := newSpikeGuard(config.Spike{Enabled: true, Factor: 10, Window: config.Duration(10 * time.Second),
		Baseline: config.Duration(10 * time.Minute), MinRequests: 100, Cooldown: config.Duration(time.Minute)}, nil)
	if err != nil {
		b.Fatal(err)
	}
	g := &Gateway{spike: s, log: slog.New(slog.DiscardHandler)}
	req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil)
	req.RemoteAddr = "203.0.113.9:43210"
	p := &auth.Principal{KeyID: "key_0123456789abcdef"}
	b.ReportAllocs()
	for b.Loop() {
		if err := g.checkSpike(req, p); err != nil {
			b.Fatal(err)
		}
	}
}
