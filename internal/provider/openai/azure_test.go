package openai

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
)

func azureProvider(t *testing.T, u *upstream, version string) *Provider {
	return newProvider(t, u, func(c *provider.Config) {
		c.Type, c.BaseURL, c.APIVersion, c.Headers = "azure", u.URL, version, nil
		c.Models = []string{"gpt-4o-prod", "embed-prod"}
	})
}

func TestAzure(t *testing.T) {
	u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/openai/deployments/gpt-4o-prod/chat/completions":
			w.Write([]byte(completion))
		case "/openai/deployments/embed-prod/embeddings":
			w.Write([]byte(`{"object":"list","data":[{"object":"embedding","index":0,"embedding":"AAAAAA=="}],"model":"text-embedding-3-large","usage":{"prompt_tokens":1,"total_tokens":1}}`))
		default:
			t.Errorf("unexpected request %s %s", r.Method, r.URL)
			w.WriteHeader(404)
		}
	})
	p := azureProvider(t, u, "")
	req := chatRequest()
	req.Model = "gpt-4o-prod"
	if _, err := p.Chat(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	got := u.last(t)
	if got.Query != "api-version="+DefaultAzureAPIVersion {
		t.Errorf("query %q", got.Query)
	}
	if got.Header.Get("Api-Key") != testKey || got.Header.Get("Authorization") != "" {
		t.Errorf("credentials: api-key %q authorization %q", got.Header.Get("Api-Key"), got.Header.Get("Authorization"))
	}

	s, err := azureProvider(t, u, "2025-01-01-preview").Embed(context.Background(),
		&llm.EmbeddingsRequest{Model: "embed-prod", Inputs: []llm.EmbeddingInput{{Text: "x"}}, EncodingFormat: "base64"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Data[0].Base64 != "AAAAAA==" {
		t.Errorf("embedding %+v", s.Data)
	}
	if got := u.last(t); got.Query != "api-version=2025-01-01-preview" {
		t.Errorf("embeddings query %q", got.Query)
	}

	before := u.count()
	models, err := p.ListModels(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []llm.Model{{ID: "gpt-4o-prod", OwnedBy: "up"}, {ID: "embed-prod", OwnedBy: "up"}}
	if diff := cmp.Diff(want, models); diff != "" {
		t.Errorf("models (-want +got):\n%s", diff)
	}
	if u.count() != before {
		t.Error("ListModels called the upstream")
	}
}

func TestAzureRejectsDeploymentsThatAreNotOneSegment(t *testing.T) {
	u := newUpstream(t, nil)
	p := azureProvider(t, u, "")
	for _, model := range []string{"", "..", "a/../../admin", `a\b`, "x?api-version=1", "a%2Fb"} {
		req := chatRequest()
		req.Model = model
		_, err := p.Chat(context.Background(), req)
		e := wantError(t, err, 400, "")
		if e.Param != "model" {
			t.Errorf("%q: param %q", model, e.Param)
		}
	}
	if u.count() != 0 {
		t.Errorf("%d requests sent", u.count())
	}
}
