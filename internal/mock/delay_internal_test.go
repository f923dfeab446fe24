package mock

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// sleepRecorder replaces Server.sleep: it records every wait instead of
// waiting, and answers ok.
type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
	ok    bool
}

func (r *sleepRecorder) sleep(_ context.Context, d time.Duration) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, d)
	return r.ok
}

func (r *sleepRecorder) take() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.waits
	r.waits = nil
	return w
}

const (
	chatBody   = `{"model":"echo","messages":[{"role":"user","content":"abcd"}]}`
	streamBody = `{"model":"echo","stream":true,"messages":[{"role":"user","content":"abcd"}]}`
)

func serve(s *Server, body string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(body)))
	return rec
}

func TestWaits(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		name  string
		opts  Options
		fault *Fault
		body  string
		want  []time.Duration
	}{
		{"no latency, no wait", Options{}, nil, chatBody, nil},
		{"latency before the answer", Options{Latency: 50 * ms}, nil, chatBody, []time.Duration{50 * ms}},
		{"fault delay adds to latency", Options{Latency: 50 * ms}, &Fault{DelayMS: 2000}, chatBody,
			[]time.Duration{2050 * ms}},
		// role chunk, 2 content chunks, finish chunk, [DONE]: 4 pauses between 5 events.
		{"chunk interval between events", Options{ChunkInterval: 10 * ms, StreamChunks: 2}, nil, streamBody,
			[]time.Duration{10 * ms, 10 * ms, 10 * ms, 10 * ms}},
		{"delay fault then stream", Options{ChunkInterval: ms, StreamChunks: 1}, &Fault{DelayMS: 5}, streamBody,
			[]time.Duration{5 * ms, ms, ms, ms}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New(tc.opts)
			rec := &sleepRecorder{ok: true}
			s.sleep = rec.sleep
			if tc.fault != nil {
				s.InjectFault(*tc.fault)
			}
			if got := serve(s, tc.body); got.Code != 200 {
				t.Fatalf("status %d: %s", got.Code, got.Body)
			}
			if diff := cmp.Diff(tc.want, rec.take()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClientGoneDuringWait(t *testing.T) {
	for _, body := range []string{chatBody, streamBody} {
		s := New(Options{Latency: time.Hour, ChunkInterval: time.Hour})
		s.sleep = (&sleepRecorder{ok: false}).sleep // as if the context ended
		if got := serve(s, body); got.Body.Len() != 0 {
			t.Errorf("answer written after the client left: %q", got.Body)
		}
	}
	s := New(Options{ChunkInterval: time.Hour})
	s.sleep = (&sleepRecorder{ok: false}).sleep
	got := serve(s, streamBody)
	if n := strings.Count(got.Body.String(), "data: "); n != 1 {
		t.Errorf("%d events written; the stream must stop at the first failed pause: %q", n, got.Body)
	}
}
