package anthropic

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/provider"
)

func TestRewritePassthrough(t *testing.T) {
	tests := []struct {
		name        string
		version     string // sent by the client
		wantVersion string
	}{
		{"client version kept", "2024-10-22", "2024-10-22"},
		{"default version added", "", DefaultVersion},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, `{"input_tokens":12}`)
			})
			p := newProvider(t, provider.Config{BaseURL: up.URL + "/base", Headers: map[string]string{"anthropic-beta": "token-counting-2024-11-01"}})
			gw := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
				p.RewritePassthrough(pr, strings.TrimPrefix(pr.In.URL.Path, "/claude/"))
			}})
			defer gw.Close()
			req, err := http.NewRequest(http.MethodPost, gw.URL+"/claude/v1/messages/count_tokens?beta=true",
				strings.NewReader(`{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}]}`))
			if err != nil {
				t.Fatal(err)
			}
			if tc.version != "" {
				req.Header.Set("anthropic-version", tc.version)
			}
			resp, err := gw.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(b) != `{"input_tokens":12}` {
				t.Fatalf("answer = %d %s", resp.StatusCode, b)
			}
			rec := <-up.reqs
			if rec.Path != "/base/v1/messages/count_tokens" || rec.Query != "beta=true" {
				t.Errorf("upstream got %s?%s, want /base/v1/messages/count_tokens?beta=true", rec.Path, rec.Query)
			}
			for k, v := range map[string]string{"X-Api-Key": testKey, "Anthropic-Version": tc.wantVersion, "Anthropic-Beta": "token-counting-2024-11-01"} {
				if g := rec.Header.Get(k); g != v {
					t.Errorf("header %s = %q, want %q", k, g, v)
				}
			}
			if rec.Body["model"] != "claude-sonnet-4-5" {
				t.Errorf("body not passed through: %v", rec.Body)
			}
		})
	}
}
