package harness

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// defaultTestTimeout bounds waits in tests that talk to local servers; it
// is a safety net against hangs, never a synchronisation.
const defaultTestTimeout = 30 * time.Second

// gateway is a stand-in system: it answers chat requests with a completion,
// requires a bearer key when keyAuth is set, and serves /metrics when
// metrics is set.
func gateway(t *testing.T, keyAuth, metrics bool, status int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/metrics" && metrics:
			w.Write([]byte("requests_total 1\n"))
		case r.URL.Path != ChatPath:
			http.NotFound(w, r)
		case keyAuth && !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer "):
			http.Error(w, `{"error":{"message":"missing key"}}`, http.StatusUnauthorized)
		case status != http.StatusOK:
			http.Error(w, `{"error":{"message":"upstream failed"}}`, status)
		default:
			w.Write([]byte(`{"id":"x","choices":[{"message":{"content":"hi"}}]}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestCheck(t *testing.T) {
	on := func(names ...string) []Feature {
		var fs []Feature
		for _, n := range names {
			fs = append(fs, Feature{Name: n, On: true})
		}
		return fs
	}
	tests := []struct {
		name     string
		base     string
		features []Feature
		wantErr  string // empty: no error
	}{
		{"answers", gateway(t, false, false, 200), nil, ""},
		{"features off are not checked", gateway(t, false, false, 200), []Feature{{Name: "key-auth"}, {Name: "metrics"}}, ""},
		{"upstream failure", gateway(t, false, false, 502), nil, "status 502"},
		{"key auth on and enforced", gateway(t, true, false, 200), on("key-auth"), ""},
		{"key auth on but not enforced", gateway(t, false, false, 200), on("key-auth"), "without a key got status 200"},
		{"metrics on and served", gateway(t, false, true, 200), on("metrics"), ""},
		{"metrics on but missing", gateway(t, false, false, 200), on("metrics"), "GET /metrics got status 404"},
		{"nothing listening", "http://127.0.0.1:1", nil, "check request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(context.Background(), tt.base, tt.features)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Check: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Check error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
