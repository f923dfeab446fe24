package mock_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/mock"
)

// geminiBody renders c as a Gemini GenerateContentRequest.
func geminiBody(t testing.TB, c conv) string {
	var contents []any
	for _, tu := range c.turns {
		switch {
		case tu.role == "tool":
			contents = append(contents, map[string]any{"role": "user", "parts": []any{
				map[string]any{"functionResponse": map[string]any{"name": "get_weather",
					"response": map[string]any{"content": tu.text}}},
			}})
		case tu.toolCall != "":
			contents = append(contents, map[string]any{"role": "model", "parts": []any{
				map[string]any{"functionCall": map[string]any{"name": tu.toolCall, "args": map[string]any{}}},
			}})
		default:
			role := "user"
			if tu.role == "assistant" {
				role = "model"
			}
			texts := tu.parts
			if texts == nil {
				texts = []string{tu.text}
			}
			var parts []any
			for _, p := range texts {
				parts = append(parts, map[string]any{"text": p})
			}
			contents = append(contents, map[string]any{"role": role, "parts": parts})
		}
	}
	req := map[string]any{"contents": contents}
	if c.system != "" {
		req["systemInstruction"] = map[string]any{"parts": []any{map[string]any{"text": c.system}}}
	}
	var decls []any
	for _, name := range c.tools {
		decls = append(decls, map[string]any{"name": name})
	}
	if decls != nil {
		req["tools"] = []any{map[string]any{"functionDeclarations": decls}}
	}
	if c.toolNone {
		req["toolConfig"] = map[string]any{"functionCallingConfig": map[string]any{"mode": "NONE"}}
	}
	if c.maxTokens > 0 {
		req["generationConfig"] = map[string]any{"maxOutputTokens": c.maxTokens}
	}
	return mustJSON(t, req)
}

type geminiAnswer struct {
	Candidates []struct {
		Content struct {
			Role  string `json:"role"`
			Parts []struct {
				Text         *string `json:"text"`
				FunctionCall *struct {
					Name string          `json:"name"`
					Args json.RawMessage `json:"args"`
				} `json:"functionCall"`
			} `json:"parts"`
		} `json:"content"`
		FinishReason string `json:"finishReason"`
	} `json:"candidates"`
	UsageMetadata *struct {
		Prompt     int `json:"promptTokenCount"`
		Candidates int `json:"candidatesTokenCount"`
		Total      int `json:"totalTokenCount"`
	} `json:"usageMetadata"`
	ModelVersion string `json:"modelVersion"`
	ResponseID   string `json:"responseId"`
}

// add folds one answer or chunk into r and reports whether it was final.
func (a *geminiAnswer) add(t testing.TB, r *result) bool {
	t.Helper()
	if len(a.Candidates) != 1 || a.Candidates[0].Content.Role != "model" || a.ResponseID == "" {
		t.Fatalf("unexpected answer %+v", a)
	}
	cand := a.Candidates[0]
	for _, p := range cand.Content.Parts {
		if p.Text != nil {
			r.Text += *p.Text
		}
		if fc := p.FunctionCall; fc != nil {
			r.ToolName, r.ToolArgs = fc.Name, compactJSON(t, string(fc.Args))
		}
	}
	if cand.FinishReason == "" {
		if a.UsageMetadata != nil {
			t.Errorf("usageMetadata before the final chunk")
		}
		return false
	}
	switch {
	case cand.FinishReason == "MAX_TOKENS":
		r.Finish = "length"
	case cand.FinishReason == "STOP" && r.ToolName != "":
		r.Finish = "tool"
	case cand.FinishReason == "STOP":
		r.Finish = "stop"
	}
	if u := a.UsageMetadata; u == nil {
		t.Errorf("final chunk without usageMetadata")
	} else {
		if u.Total != u.Prompt+u.Candidates {
			t.Errorf("totalTokenCount %d != %d + %d", u.Total, u.Prompt, u.Candidates)
		}
		r.Prompt, r.Completion = u.Prompt, u.Candidates
	}
	return true
}

// geminiChat sends c to generateContent (mode ""), or streamGenerateContent
// as SSE (mode "sse") or as a JSON array (mode "array"), and reduces the
// answer.
func geminiChat(t *testing.T, srv *httptest.Server, c conv, mode string) result {
	path := "/v1beta/models/gemini-test:generateContent"
	switch mode {
	case "sse":
		path = "/v1beta/models/gemini-test:streamGenerateContent?alt=sse"
	case "array":
		path = "/v1beta/models/gemini-test:streamGenerateContent"
	}
	resp, body := call(t, srv, "POST", path, geminiBody(t, c), "x-goog-api-key", "test-key")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var chunks []geminiAnswer
	switch mode {
	case "":
		chunks = make([]geminiAnswer, 1)
		if err := json.Unmarshal(body, &chunks[0]); err != nil {
			t.Fatal(err)
		}
	case "sse":
		for i, ev := range parseSSE(t, body) {
			var a geminiAnswer
			if err := json.Unmarshal([]byte(ev.Data), &a); err != nil || ev.Name != "" {
				t.Fatalf("event %d (%q): %v", i, ev.Name, err)
			}
			chunks = append(chunks, a)
		}
	case "array":
		if !strings.HasPrefix(string(body), "[{") || !strings.HasSuffix(string(body), "}]") {
			t.Errorf("streamed array %q: want [ … ]", tail(body))
		}
		if err := json.Unmarshal(body, &chunks); err != nil {
			t.Fatal(err)
		}
	}
	var r result
	for i := range chunks {
		if final := chunks[i].add(t, &r); final != (i == len(chunks)-1) {
			t.Errorf("chunk %d of %d: final=%v; only the last chunk has a finishReason", i, len(chunks), final)
		}
	}
	return r
}

func TestGeminiToolResultText(t *testing.T) {
	_, srv := newServer(t, mock.Options{})
	tests := []struct {
		name, response, want string
	}{
		{"string", `"plain"`, "plain"},
		{"one member", `{"weather":"rain"}`, "rain"},
		{"result member", `{"result":"ok","status":200}`, "ok"},
		{"other object", `{"a":1,"b":[true]}`, `{"a":1,"b":[true]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := `{"contents":[{"role":"user","parts":[{"functionResponse":{"name":"f","response":` + tc.response + `}}]}]}`
			resp, b := call(t, srv, "POST", "/v1beta/models/g:generateContent", body)
			var a geminiAnswer
			if err := json.Unmarshal(b, &a); err != nil || resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			var r result
			a.add(t, &r)
			if want := "tool said: " + tc.want; r.Text != want {
				t.Errorf("text = %q, want %q", r.Text, want)
			}
		})
	}
}

func TestGeminiCountTokens(t *testing.T) {
	_, srv := newServer(t, mock.Options{})
	for _, body := range []string{
		`{"contents":[{"parts":[{"text":"abcdefgh"}]}]}`,
		`{"generateContentRequest":{"model":"models/g","contents":[{"parts":[{"text":"abcdefgh"}]}]}}`,
	} {
		resp, b := call(t, srv, "POST", "/v1beta/models/g:countTokens", body)
		var got struct {
			TotalTokens int `json:"totalTokens"`
		}
		if err := json.Unmarshal(b, &got); err != nil || resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		if got.TotalTokens != 5 { // ⌈8/4⌉ + 3
			t.Errorf("%s: totalTokens = %d, want 5", body, got.TotalTokens)
		}
	}
}
