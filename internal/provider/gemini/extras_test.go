package gemini

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
)

func TestEmbed(t *testing.T) {
	p := newTestProvider(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1beta/models/gemini-embedding-001:batchEmbedContents" || r.Header.Get("X-Goog-Api-Key") != testKey {
			t.Errorf("request to %s, key header %q", r.URL.Path, r.Header.Get("X-Goog-Api-Key"))
		}
		want := map[string]any{"requests": []any{
			map[string]any{"model": "models/gemini-embedding-001", "content": map[string]any{"parts": []any{map[string]any{"text": "a"}}}, "outputDimensionality": float64(3)},
			map[string]any{"model": "models/gemini-embedding-001", "content": map[string]any{"parts": []any{map[string]any{"text": "b"}}}, "outputDimensionality": float64(3)},
		}}
		if diff := cmp.Diff(want, readBody(t, r)); diff != "" {
			t.Errorf("body (-want +got):\n%s", diff)
		}
		w.Write([]byte(`{"embeddings":[{"values":[0.1,0.2,0.3]},{"values":[-0.1,0,1]}]}`))
	})
	got, err := p.Embed(context.Background(), &llm.EmbeddingsRequest{Model: "gemini-embedding-001",
		Inputs: []llm.EmbeddingInput{{Text: "a"}, {Text: "b"}}, Dimensions: ptr(3)})
	if err != nil {
		t.Fatal(err)
	}
	want := &llm.EmbeddingsResponse{Model: "gemini-embedding-001", Data: []llm.Embedding{
		{Index: 0, Vector: []float32{0.1, 0.2, 0.3}}, {Index: 1, Vector: []float32{-0.1, 0, 1}}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestEmbedCountMismatch(t *testing.T) {
	p := newTestProvider(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"embeddings":[{"values":[1]}]}`))
	})
	_, err := p.Embed(context.Background(), &llm.EmbeddingsRequest{Model: "m",
		Inputs: []llm.EmbeddingInput{{Text: "a"}, {Text: "b"}}})
	if got := viewErr(t, err); got.Status != http.StatusBadGateway || got.Code != "invalid_upstream_response" {
		t.Errorf("error %+v", got)
	}
}

func TestListModels(t *testing.T) {
	pages := map[string]string{
		"":   `{"models":[{"name":"models/gemini-2.5-flash","displayName":"Gemini 2.5 Flash","supportedGenerationMethods":["generateContent"]},{"name":"models/text-embedding-004"}],"nextPageToken":"p2=="}`,
		"p2": `{"models":[{"name":"models/gemini-3-pro-preview"}]}`,
	}
	p := newTestProvider(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/v1beta/models" || r.URL.Query().Get("pageSize") != "1000" {
			t.Errorf("request %s %s", r.Method, r.URL)
		}
		tok := r.URL.Query().Get("pageToken")
		if tok == "p2==" {
			tok = "p2"
		}
		w.Write([]byte(pages[tok]))
	})
	got, err := p.ListModels(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []llm.Model{{ID: "gemini-2.5-flash", OwnedBy: "google"}, {ID: "text-embedding-004", OwnedBy: "google"},
		{ID: "gemini-3-pro-preview", OwnedBy: "google"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestListModelsError(t *testing.T) {
	p := newTestProvider(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"error":{"code":403,"message":"denied","status":"PERMISSION_DENIED"}}`))
	})
	_, err := p.ListModels(context.Background())
	if got := viewErr(t, err); got.Code != "upstream_permission_denied" {
		t.Errorf("error %+v", got)
	}
}

func TestRewritePassthrough(t *testing.T) {
	type seen struct {
		Path, Query, Key, Team, Auth string
	}
	got := make(chan seen, 1)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got <- seen{r.URL.Path, r.URL.RawQuery, r.Header.Get("X-Goog-Api-Key"), r.Header.Get("X-Team"), r.Header.Get("Authorization")}
		w.Write([]byte(`{}`))
	}))
	defer upstream.Close()
	pv, err := New(provider.Config{Name: "google", BaseURL: upstream.URL, APIKey: testKey,
		Headers: map[string]string{"X-Team": "search"}})
	if err != nil {
		t.Fatal(err)
	}
	pt := pv.(provider.Passthrough)
	// The gateway's side: strip "/google/" and hand the rest to the adapter.
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.Out.Header.Del("Authorization")
		pt.RewritePassthrough(pr, pr.In.URL.Path[len("/google/"):])
	}}
	gw := httptest.NewServer(proxy)
	defer gw.Close()

	req, _ := http.NewRequest(http.MethodPost,
		gw.URL+"/google/v1beta/models/gemini-2.5-flash:streamGenerateContent?key=CLIENT-KEY&alt=sse&%6Bey=x&keyword=ok", nil)
	req.Header.Set("X-Goog-Api-Key", "CLIENT-KEY")
	req.Header.Set("Authorization", "Bearer gateway-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := seen{Path: "/v1beta/models/gemini-2.5-flash:streamGenerateContent", Query: "alt=sse&keyword=ok",
		Key: testKey, Team: "search"}
	if diff := cmp.Diff(want, <-got); diff != "" {
		t.Errorf("upstream saw (-want +got):\n%s", diff)
	}
}

func TestWithoutKey(t *testing.T) {
	for in, want := range map[string]string{
		"":                    "",
		"alt=sse":             "alt=sse",
		"key=a":               "",
		"key=a&alt=sse":       "alt=sse",
		"alt=sse&key=a&key=b": "alt=sse",
		"monkey=1&key":        "monkey=1",
		"k%65y=1&pageSize=5":  "pageSize=5",
		"%zz=1&key=2":         "%zz=1",
	} {
		if got := withoutKey(in); got != want {
			t.Errorf("withoutKey(%q) = %q, want %q", in, got, want)
		}
	}
	// The result is still a query the server parses as before, minus key.
	if v, err := url.ParseQuery(withoutKey("a=1&key=2&b=%203")); err != nil || v.Get("b") != " 3" || v.Has("key") {
		t.Errorf("parsed %v, %v", v, err)
	}
}
