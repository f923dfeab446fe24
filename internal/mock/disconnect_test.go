package mock_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/mock"
)

// handlerGuard wraps the mock to report when a request enters and leaves it.
type handlerGuard struct {
	h             http.Handler
	entered, left chan struct{}
}

func (g *handlerGuard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.entered <- struct{}{}
	defer func() { g.left <- struct{}{} }()
	g.h.ServeHTTP(w, r)
}

// waitLeft fails the test if the handler has not returned; the generous
// bound only turns a hang into a failure, it measures nothing.
func (g *handlerGuard) waitLeft(t *testing.T) {
	t.Helper()
	select {
	case <-g.left:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler kept running after the client went away")
	}
}

func TestClientGoneStopsTheHandler(t *testing.T) {
	tests := []struct {
		name       string
		opts       mock.Options
		body       string
		readEvents int // events to read before hanging up
	}{
		{"during latency", mock.Options{Latency: time.Hour}, `{"model":"echo","messages":[{"role":"user","content":"x"}]}`, 0},
		{"mid-stream", mock.Options{ChunkInterval: time.Hour},
			`{"model":"echo","stream":true,"messages":[{"role":"user","content":"hello there"}]}`, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := &handlerGuard{h: mock.New(tc.opts), entered: make(chan struct{}, 1), left: make(chan struct{}, 1)}
			srv := httptest.NewServer(g)
			defer srv.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/v1/chat/completions", strings.NewReader(tc.body))

			errc := make(chan error, 1)
			go func() {
				resp, err := srv.Client().Do(req)
				if err == nil {
					defer resp.Body.Close()
					br := bufio.NewReader(resp.Body)
					for n := 0; n < tc.readEvents; {
						line, rerr := br.ReadString('\n')
						if rerr != nil {
							err = rerr
							break
						}
						if line == "\n" {
							n++
						}
					}
				}
				errc <- err
				<-ctx.Done()
			}()
			<-g.entered
			if tc.readEvents > 0 {
				if err := <-errc; err != nil {
					t.Fatalf("reading the first events: %v", err)
				}
			}
			cancel()
			g.waitLeft(t)
		})
	}
}
