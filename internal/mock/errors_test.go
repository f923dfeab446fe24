package mock_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sluicehq/sluice/internal/mock"
)

// apiError is an error body reduced to what the three shapes carry.
type apiError struct {
	Shape  string // "openai", "anthropic" or "google"
	Type   string // OpenAI / Anthropic type, Google status
	Param  string // OpenAI only
	Status int    // Google's code, else the HTTP status
}

// parseAPIError identifies the error shape of body and reduces it.
func parseAPIError(t testing.TB, status int, body []byte) apiError {
	t.Helper()
	var raw struct {
		Type  string `json:"type"`
		Error struct {
			Message *string `json:"message"`
			Type    string  `json:"type"`
			Param   *string `json:"param"`
			Code    any     `json:"code"`
			Status  string  `json:"status"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &raw); err != nil || raw.Error.Message == nil || *raw.Error.Message == "" {
		t.Fatalf("not an error body with a message: %s (%v)", body, err)
	}
	e := apiError{Status: status}
	switch {
	case raw.Type == "error":
		e.Shape, e.Type = "anthropic", raw.Error.Type
	case raw.Error.Status != "":
		e.Shape, e.Type = "google", raw.Error.Status
		code, _ := raw.Error.Code.(float64)
		e.Status = int(code)
	default:
		e.Shape, e.Type = "openai", raw.Error.Type
		if raw.Error.Param != nil {
			e.Param = *raw.Error.Param
		}
	}
	return e
}

func TestBadRequests(t *testing.T) {
	tests := []struct {
		name, method, path, body string
		headers                  []string
		want                     apiError
	}{
		{"openai malformed JSON", "POST", "/v1/chat/completions", `{"model":"echo",`, nil,
			apiError{"openai", "invalid_request_error", "", 400}},
		{"openai missing model", "POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}]}`, nil,
			apiError{"openai", "invalid_request_error", "model", 400}},
		{"openai no messages", "POST", "/v1/chat/completions", `{"model":"echo","messages":[]}`, nil,
			apiError{"openai", "invalid_request_error", "messages", 400}},
		{"openai bad role", "POST", "/v1/chat/completions", `{"model":"echo","messages":[{"role":"robot","content":"x"}]}`, nil,
			apiError{"openai", "invalid_request_error", "messages[0].role", 400}},
		{"openai bad content", "POST", "/v1/chat/completions", `{"model":"echo","messages":[{"role":"user","content":5}]}`, nil,
			apiError{"openai", "invalid_request_error", "", 400}},
		{"openai zero max_tokens", "POST", "/v1/chat/completions",
			`{"model":"echo","max_tokens":0,"messages":[{"role":"user","content":"x"}]}`, nil,
			apiError{"openai", "invalid_request_error", "max_tokens", 400}},
		{"openai wrong method", "GET", "/v1/chat/completions", "", nil,
			apiError{"openai", "invalid_request_error", "", 405}},
		{"openai unknown path", "GET", "/v2/things", "", nil,
			apiError{"openai", "invalid_request_error", "", 404}},
		{"openai unknown model", "GET", "/v1/models/nope", "", nil,
			apiError{"openai", "invalid_request_error", "model", 404}},
		{"embeddings missing input", "POST", "/v1/embeddings", `{"model":"e"}`, nil,
			apiError{"openai", "invalid_request_error", "input", 400}},
		{"embeddings empty string", "POST", "/v1/embeddings", `{"model":"e","input":["a",""]}`, nil,
			apiError{"openai", "invalid_request_error", "input", 400}},
		{"embeddings empty array", "POST", "/v1/embeddings", `{"model":"e","input":[]}`, nil,
			apiError{"openai", "invalid_request_error", "input", 400}},
		{"embeddings bad dimensions", "POST", "/v1/embeddings", `{"model":"e","input":"a","dimensions":0}`, nil,
			apiError{"openai", "invalid_request_error", "dimensions", 400}},
		{"embeddings bad format", "POST", "/v1/embeddings", `{"model":"e","input":"a","encoding_format":"hex"}`, nil,
			apiError{"openai", "invalid_request_error", "encoding_format", 400}},
		{"embeddings missing model", "POST", "/v1/embeddings", `{"input":"a"}`, nil,
			apiError{"openai", "invalid_request_error", "model", 400}},
		{"anthropic malformed JSON", "POST", "/v1/messages", `[`, nil,
			apiError{"anthropic", "invalid_request_error", "", 400}},
		{"anthropic missing model", "POST", "/v1/messages", `{"max_tokens":5,"messages":[{"role":"user","content":"x"}]}`, nil,
			apiError{"anthropic", "invalid_request_error", "", 400}},
		{"anthropic bad role", "POST", "/v1/messages", `{"model":"m","max_tokens":5,"messages":[{"role":"system","content":"x"}]}`, nil,
			apiError{"anthropic", "invalid_request_error", "", 400}},
		{"anthropic wrong method", "GET", "/v1/messages", "", nil,
			apiError{"anthropic", "invalid_request_error", "", 405}},
		{"anthropic unknown model", "GET", "/v1/models/nope", "", []string{anthropicHeaders, anthropicVersion},
			apiError{"anthropic", "not_found_error", "", 404}},
		{"gemini malformed JSON", "POST", "/v1beta/models/g:generateContent", `{"contents":`, nil,
			apiError{"google", "INVALID_ARGUMENT", "", 400}},
		{"gemini empty parts", "POST", "/v1beta/models/g:generateContent", `{"contents":[{"role":"user","parts":[]}]}`, nil,
			apiError{"google", "INVALID_ARGUMENT", "", 400}},
		{"gemini bad role", "POST", "/v1beta/models/g:generateContent", `{"contents":[{"role":"bot","parts":[{"text":"x"}]}]}`, nil,
			apiError{"google", "INVALID_ARGUMENT", "", 400}},
		{"gemini unknown method", "POST", "/v1beta/models/g:predict", `{}`, nil,
			apiError{"google", "NOT_FOUND", "", 404}},
		{"gemini unknown path", "GET", "/v1beta/tunedModels", "", nil,
			apiError{"google", "NOT_FOUND", "", 404}},
		{"gemini batch without model", "POST", "/v1beta/models/e:batchEmbedContents",
			`{"requests":[{"content":{"parts":[{"text":"a"}]}}]}`, nil,
			apiError{"google", "INVALID_ARGUMENT", "", 400}},
		{"gemini batch empty", "POST", "/v1beta/models/e:batchEmbedContents", `{"requests":[]}`, nil,
			apiError{"google", "INVALID_ARGUMENT", "", 400}},
		{"gemini wrong method", "GET", "/v1beta/models/g:generateContent", "", nil,
			apiError{"google", "INVALID_ARGUMENT", "", 405}},
	}
	_, srv := newServer(t, mock.Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := call(t, srv, tc.method, tc.path, tc.body, tc.headers...)
			if resp.StatusCode != tc.want.Status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want.Status, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			got := parseAPIError(t, resp.StatusCode, body)
			if got.Shape == "google" {
				got.Status = resp.StatusCode // the body's code was checked to be the status below
				if g := parseAPIError(t, 0, body); g.Status != resp.StatusCode {
					t.Errorf("Google error code %d != HTTP status %d", g.Status, resp.StatusCode)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
