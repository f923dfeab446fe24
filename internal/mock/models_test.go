package mock_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sluicehq/sluice/internal/mock"
)

// listModelIDs fetches a model list in one API's shape and returns the ids.
func listModelIDs(t *testing.T, srvCall func(method, path, body string, headers ...string) []byte, api string) []string {
	t.Helper()
	var ids []string
	switch api {
	case "openai":
		var l struct {
			Object string
			Data   []struct{ ID, Object string }
		}
		if err := json.Unmarshal(srvCall("GET", "/v1/models", ""), &l); err != nil || l.Object != "list" {
			t.Fatalf("openai list: %v", err)
		}
		for _, m := range l.Data {
			ids = append(ids, m.ID)
		}
	case "anthropic":
		var l struct {
			Data []struct {
				Type string `json:"type"`
				ID   string `json:"id"`
			} `json:"data"`
			HasMore *bool  `json:"has_more"`
			FirstID string `json:"first_id"`
		}
		if err := json.Unmarshal(srvCall("GET", "/v1/models", "", anthropicHeaders, anthropicVersion), &l); err != nil ||
			l.HasMore == nil || l.FirstID != "echo" {
			t.Fatalf("anthropic list: %v %+v", err, l)
		}
		for _, m := range l.Data {
			ids = append(ids, m.ID)
		}
	case "gemini":
		var l struct{ Models []struct{ Name string } }
		if err := json.Unmarshal(srvCall("GET", "/v1beta/models", ""), &l); err != nil {
			t.Fatalf("gemini list: %v", err)
		}
		for _, m := range l.Models {
			ids = append(ids, m.Name)
		}
	}
	return ids
}

func TestModelListsIncludeRequestedModels(t *testing.T) {
	m, srv := newServer(t, mock.Options{})
	get := func(method, path, body string, headers ...string) []byte {
		resp, b := call(t, srv, method, path, body, headers...)
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return b
	}
	get("POST", "/v1/chat/completions", `{"model":"zz-custom","messages":[{"role":"user","content":"x"}]}`)
	get("POST", "/v1/messages", `{"model":"claude-x","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`)
	get("POST", "/v1beta/models/gemini-x:generateContent", `{"contents":[{"parts":[{"text":"x"}]}]}`)
	get("POST", "/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}`)

	defaults := []string{"echo", "gpt-4o-mini", "text-embedding-3-small", "claude-haiku-4-5",
		"gemini-2.5-flash", "text-embedding-004"}
	want := append(append([]string{}, defaults...), "claude-x", "gemini-x", "zz-custom")
	for _, api := range []string{"openai", "anthropic", "gemini"} {
		got := listModelIDs(t, get, api)
		w := want
		if api == "gemini" {
			w = nil
			for _, id := range want {
				w = append(w, "models/"+id)
			}
		}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("%s model list (-want +got):\n%s", api, diff)
		}
	}
	for _, path := range []string{"/v1/models/zz-custom", "/v1/models/echo", "/v1beta/models/gemini-x"} {
		get("GET", path, "")
	}

	m.Reset()
	if got := listModelIDs(t, get, "openai"); !cmp.Equal(got, defaults) {
		t.Errorf("after Reset the list is %v, want the defaults", got)
	}
}
