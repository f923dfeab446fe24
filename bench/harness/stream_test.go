package harness

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadFirstData(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
	}{
		{"data first", "data: {}\n\n", false},
		{"after a comment and an event line", ": ping\nevent: message_start\ndata: {}\n", false},
		{"after a line longer than the buffer", ": " + strings.Repeat("x", 100) + "\ndata: {}\n", false},
		{"no data before EOF", "event: x\n\n", true},
		{"empty", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ReadFirstData(bufio.NewReaderSize(strings.NewReader(tt.in), 16))
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

// sseServer answers every request with status, and when it is 200 with the
// given events; hold keeps the stream open until the client goes away.
func sseServer(t *testing.T, status int, events []string, hold bool) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading the body to its end is what lets the server notice
		// that the client has gone away (r.Context() ends).
		_, _ = io.Copy(io.Discard, r.Body)
		if status != http.StatusOK {
			http.Error(w, `{"error":{"message":"nope"}}`, status)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, e := range events {
			fmt.Fprintf(w, "data: %s\n\n", e)
		}
		w.(http.Flusher).Flush()
		if hold {
			<-r.Context().Done()
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + ChatPath
}

func TestRunTTFT(t *testing.T) {
	type outcome struct {
		Streams, Failures int
		FirstHas          string
	}
	tests := []struct {
		name string
		url  string
		n    int
		want outcome
	}{
		{"complete streams", sseServer(t, 200, []string{`{"a":1}`, "[DONE]"}, false), 5, outcome{5, 0, ""}},
		{"streams without DONE fail", sseServer(t, 200, []string{`{"a":1}`}, false), 3, outcome{0, 3, "[DONE]"}},
		{"error status fails", sseServer(t, 502, nil, false), 2, outcome{0, 2, "status 502"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := RunTTFT(context.Background(), tt.url, tt.n, 2)
			got := outcome{r.Streams, r.Failures, ""}
			if tt.want.FirstHas != "" && strings.Contains(r.First, tt.want.FirstHas) {
				got.FirstHas = tt.want.FirstHas
			}
			if got != tt.want {
				t.Errorf("RunTTFT = %+v (first failure %q), want %+v", got, r.First, tt.want)
			}
			if r.Streams > 0 && (r.P50 <= 0 || r.P99 < r.P50) {
				t.Errorf("percentiles p50 %v p99 %v: want 0 < p50 <= p99", r.P50, r.P99)
			}
		})
	}
}

func TestHoldStreams(t *testing.T) {
	type outcome struct{ Want, Live, Failures int }
	tests := []struct {
		name string
		url  string
		want []outcome
	}{
		{"all held, in two stages", sseServer(t, 200, []string{`{"a":1}`}, true), []outcome{{2, 2, 0}, {6, 6, 0}}},
		{"all refused", sseServer(t, 503, nil, false), []outcome{{2, 0, 2}, {6, 0, 6}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := HoldStreams(context.Background(), tt.url, []int{2, 6}, os.Getpid(), defaultTestTimeout)
			if err != nil {
				t.Fatal(err)
			}
			var got []outcome
			for _, r := range rs {
				got = append(got, outcome{r.Want, r.Live, r.Failures})
				if r.Mem.Peak == 0 {
					t.Errorf("checkpoint %d: memory was not sampled", r.Want)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("HoldStreams (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := HoldStreams(context.Background(), "http://127.0.0.1:1", []int{6, 2}, os.Getpid(), defaultTestTimeout); err == nil {
		t.Error("HoldStreams with descending counts: no error")
	}
}
