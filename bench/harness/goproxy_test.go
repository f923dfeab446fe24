package harness

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestReverseProxyForwardsRequests(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s host=%s auth=%s body=%s", r.Method, r.URL.Path, r.Host, r.Header.Get("Authorization"), b)
	}))
	defer upstream.Close()
	u, _ := url.Parse(upstream.URL)
	proxy := httptest.NewServer(NewReverseProxy(u))
	defer proxy.Close()

	code, body, err := post(context.Background(), proxy.URL+ChatPath, []byte(`{"x":1}`), Headers())
	if err != nil {
		t.Fatal(err)
	}
	want := "POST /v1/chat/completions host=" + u.Host + " auth=Bearer " + ClientKey + ` body={"x":1}`
	if code != http.StatusOK || string(body) != want {
		t.Errorf("through the proxy: %d %q, want 200 %q", code, body, want)
	}
}

func TestReverseProxyStreamsEachEvent(t *testing.T) {
	next := make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 3 {
			if i > 0 {
				<-next // the client has seen the previous event
			}
			fmt.Fprintf(w, "data: %d\n\n", i)
			w.(http.Flusher).Flush()
		}
	}))
	defer upstream.Close()
	u, _ := url.Parse(upstream.URL)
	proxy := httptest.NewServer(NewReverseProxy(u))
	defer proxy.Close()

	resp, err := http.Post(proxy.URL+ChatPath, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	for i := range 3 {
		// The upstream sends event i+1 only after this read, so a proxy
		// that buffered events would deadlock here instead of passing.
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if want := fmt.Sprintf("data: %d\n", i); line != want {
			t.Errorf("event %d = %q, want %q", i, line, want)
		}
		if _, err := br.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			next <- struct{}{}
		}
	}
}

func TestServeReverseProxyRejectsBadAddresses(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name, listen, upstream string
	}{
		{"not loopback", "0.0.0.0:0", "http://127.0.0.1:1"},
		{"host name", "localhost:0", "http://127.0.0.1:1"},
		{"relative upstream", "127.0.0.1:0", "/v1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := ServeReverseProxy(ctx, tt.listen, tt.upstream); err == nil {
				t.Errorf("ServeReverseProxy(%q, %q): no error", tt.listen, tt.upstream)
			}
		})
	}
	if err := ServeReverseProxy(ctx, "127.0.0.1:0", "http://127.0.0.1:1"); err != nil {
		t.Errorf("ServeReverseProxy on loopback with an ended context: %v", err)
	}
}
