package openai

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"strings"
	"testing"
)

func TestRewritePassthrough(t *testing.T) {
	tests := []struct {
		name      string
		azure     bool
		target    string // the client's URL at the gateway
		path      string // what the gateway passes: the path after /{provider}/
		wantURL   string // relative to the provider's base
		wantKey   string // the credential header
		wantValue string
	}{
		{"plain", false, "/up/files?purpose=batch", "files", "/v1/files?purpose=batch", "Authorization", "Bearer " + testKey},
		{"climbing out is contained", false, "/up/x", "files/../../../admin/keys", "/v1/admin/keys", "Authorization", "Bearer " + testKey},
		{"azure adds api-version", true, "/up/openai/deployments/d/audio/speech", "openai/deployments/d/audio/speech",
			"/openai/deployments/d/audio/speech?api-version=" + DefaultAzureAPIVersion, "Api-Key", testKey},
		{"azure keeps the client's api-version", true, "/up/openai/models?api-version=2025-04-01-preview", "openai/models",
			"/openai/models?api-version=2025-04-01-preview", "Api-Key", testKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := newUpstream(t, nil)
			p := newProvider(t, u, nil)
			if tc.azure {
				p = azureProvider(t, u, "")
			}
			in := httptest.NewRequest("POST", "http://gateway.local"+tc.target, strings.NewReader("{}"))
			in.Header.Set("Authorization", "Bearer client-gateway-key")
			in.Header.Set("Api-Key", "client-azure-key")
			in.Header.Set("X-Api-Key", "client-anthropic-key")
			pr := &httputil.ProxyRequest{In: in, Out: in.Clone(in.Context())}
			p.RewritePassthrough(pr, tc.path)
			if got := pr.Out.URL.String(); got != u.URL+tc.wantURL {
				t.Errorf("URL %q, want %q", got, u.URL+tc.wantURL)
			}
			if pr.Out.Host != pr.Out.URL.Host {
				t.Errorf("Host %q, URL host %q", pr.Out.Host, pr.Out.URL.Host)
			}
			for _, k := range []string{"Authorization", "Api-Key", "X-Api-Key"} {
				want := ""
				if k == tc.wantKey {
					want = tc.wantValue
				}
				if got := pr.Out.Header.Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			if !tc.azure && pr.Out.Header.Get("OpenAI-Organization") != "org-test" {
				t.Error("static header missing")
			}
			if in.Header.Get("Authorization") != "Bearer client-gateway-key" {
				t.Error("the incoming request was modified")
			}
		})
	}
}

// Through a real reverse proxy: the upstream sees the provider's key on the
// right path, and never the client's.
func TestPassthroughThroughReverseProxy(t *testing.T) {
	u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"object":"list","data":[]}`))
	})
	p := newProvider(t, u, nil)
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		p.RewritePassthrough(pr, strings.TrimPrefix(pr.In.URL.Path, "/up/"))
	}})
	defer proxy.Close()
	req, _ := http.NewRequest("GET", proxy.URL+"/up/batches?limit=2", nil)
	req.Header.Set("Authorization", "Bearer client-gateway-key")
	resp, err := proxy.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"object":"list","data":[]}` {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	got := u.last(t)
	if got.Path != "/v1/batches" || got.Query != "limit=2" || got.Header.Get("Authorization") != "Bearer "+testKey {
		t.Errorf("upstream saw %s?%s with %q", got.Path, got.Query, got.Header.Get("Authorization"))
	}
}
