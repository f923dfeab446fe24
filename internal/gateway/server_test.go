package gateway_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/gateway"
	"github.com/sluicehq/sluice/internal/mock"
)

// serveSlow runs a gateway with Serve (not httptest) in front of a mock
// that streams 10 chunks 50ms apart, with the given shutdown grace.
func serveSlow(t *testing.T, grace string) (url string, stop context.CancelFunc, served chan error) {
	t.Helper()
	ms := httptest.NewServer(mock.New(mock.Options{StreamChunks: 10, ChunkInterval: 50 * time.Millisecond}))
	t.Cleanup(ms.Close)
	cfg, err := config.Parse([]byte(`
server: { shutdown_grace: `+grace+` }
auth: { require_keys: false }
providers: [ { name: m, type: openai, base_url: "`+ms.URL+`/v1", api_key: k } ]`), "grace.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g, err := gateway.New(cfg, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	served = make(chan error, 1)
	go func() { served <- g.Serve(ctx, ln) }()
	return "http://" + ln.Addr().String(), cancel, served
}

const slowStream = `{"model":"m/x","stream":true,"messages":[{"role":"user","content":"a b c d e f g h i j k l m n o p"}]}`

// startStream opens a stream and waits for its first byte, so the request
// is in flight when the test shuts the server down.
func startStream(t *testing.T, url string) *http.Response {
	t.Helper()
	resp, err := http.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(slowStream))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	one := make([]byte, 1)
	if _, err := io.ReadFull(resp.Body, one); err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestShutdownLetsStreamsFinish(t *testing.T) {
	url, stop, served := serveSlow(t, "10s")
	resp := startStream(t, url)
	defer resp.Body.Close()
	stop()
	rest, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("stream cut during graceful shutdown: %v", err)
	}
	if !strings.HasSuffix(string(rest), "data: [DONE]\n\n") {
		t.Errorf("stream did not complete: ...%q", rest[max(0, len(rest)-60):])
	}
	if err := <-served; err != nil {
		t.Errorf("Serve returned %v", err)
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Error("the listener still accepts connections after shutdown")
	}
}

func TestShutdownCutsStreamsAfterGrace(t *testing.T) {
	url, stop, served := serveSlow(t, "100ms")
	resp := startStream(t, url)
	defer resp.Body.Close()
	stop()
	rest, _ := io.ReadAll(resp.Body)
	if strings.Contains(string(rest), "[DONE]") {
		t.Error("a stream that outlived the grace period still completed")
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the grace period")
	}
}
