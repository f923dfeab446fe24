package mock_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/mock"
)

func TestStart(t *testing.T) {
	base, stop, err := mock.Start(mock.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Errorf("base URL %q, want http://127.0.0.1:PORT", base)
	}
	resp, err := http.Post(base+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"echo","messages":[{"role":"user","content":"ping"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"content":"ping"`) {
		t.Errorf("got %d %s", resp.StatusCode, b)
	}
	stop()
	stop() // idempotent
	if _, err := http.Get(base + "/v1/models"); err == nil {
		t.Errorf("server still answers after stop")
	}
}

// addrHandler is a slog handler that hands over the "addr" attribute of
// the listening message.
type addrHandler struct{ addr chan string }

func (h addrHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h addrHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h addrHandler) WithGroup(string) slog.Handler            { return h }
func (h addrHandler) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "addr" {
			h.addr <- a.Value.String()
		}
		return true
	})
	return nil
}

func TestListenAndServe(t *testing.T) {
	h := addrHandler{addr: make(chan string, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- mock.ListenAndServe(ctx, "127.0.0.1:0", mock.Options{}, slog.New(h)) }()

	var addr string
	select {
	case addr = <-h.addr:
	case err := <-done:
		t.Fatalf("ListenAndServe returned early: %v", err)
	}
	resp, err := http.Get("http://" + addr + "/_mock/stats")
	if err != nil {
		t.Fatal(err)
	}
	var s mock.Stats
	err = json.NewDecoder(resp.Body).Decode(&s)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("stats: %d %v", resp.StatusCode, err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("after cancel: %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ListenAndServe did not return after its context ended")
	}
}

func TestListenAndServeBadAddress(t *testing.T) {
	err := mock.ListenAndServe(context.Background(), "127.0.0.1:-1", mock.Options{}, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "mock: listen:") {
		t.Errorf("err = %v, want a listen error", err)
	}
}
