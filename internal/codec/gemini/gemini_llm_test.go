package gemini

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sluicehq/sluice/internal/llm"
)

// decodeFixtures returns the Gemini answers under testdata/decode, by name.
func decodeFixtures(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("testdata/decode/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	out := make(map[string][]byte, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = b
	}
	return out
}

func TestDecodeGenerateResponse(t *testing.T) {
	for name, body := range decodeFixtures(t) {
		t.Run(name, func(t *testing.T) {
			resp, err := DecodeGenerateResponse(body)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "decode/golden/"+name+".json", resp)
		})
	}
}

func TestDecodeGenerateResponseFields(t *testing.T) {
	// The points the golden files make, spelled out.
	fx := decodeFixtures(t)
	resp, err := DecodeGenerateResponse(fx["tool_calls"])
	if err != nil {
		t.Fatal(err)
	}
	if resp.ID != "resp-tools-1" || resp.Model != "gemini-3-flash-preview" || resp.Created != testNow.Unix() {
		t.Errorf("ID, Model, Created = %q, %q, %d", resp.ID, resp.Model, resp.Created)
	}
	wantUsage := llm.Usage{InputTokens: 120, CachedInputTokens: 64, OutputTokens: 130, ReasoningTokens: 90}
	if diff := cmp.Diff(wantUsage, resp.Usage); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	ch := resp.Choices[0]
	if ch.FinishReason != llm.FinishToolCalls {
		t.Errorf("finish reason = %q, want tool_calls", ch.FinishReason)
	}
	calls := ch.Message.ToolCalls()
	if len(calls) != 3 {
		t.Fatalf("got %d tool calls, want 3", len(calls))
	}
	if got := splitCallID(calls[0].ID); got != testSig {
		t.Errorf("first call's ID carries signature %q, want %q", got, testSig)
	}
	if calls[0].Arguments != `{"city":"Paris","unit":"celsius"}` || calls[2].Arguments != "{}" {
		t.Errorf("arguments = %q, %q", calls[0].Arguments, calls[2].Arguments)
	}
	seen := map[string]bool{}
	for _, c := range calls {
		if seen[c.ID] || !strings.HasPrefix(c.ID, "call_") {
			t.Errorf("tool call ID %q is duplicated or malformed", c.ID)
		}
		seen[c.ID] = true
	}

	// Without a responseId, an ID is made up.
	resp, err = DecodeGenerateResponse([]byte(`{"candidates":[{"content":{"parts":[{"text":"hi"}]},"finishReason":"STOP"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(resp.ID, "gen-") || len(resp.ID) != 28 {
		t.Errorf("generated ID = %q", resp.ID)
	}
}

func TestDecodeGenerateResponseErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
		want errFields
	}{
		{"prompt blocked", `{"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[]},"usageMetadata":{"promptTokenCount":7}}`,
			errFields{Status: http.StatusBadRequest, Type: llm.TypeInvalidRequest, Code: "content_filter", Param: "messages", Fault: llm.FaultProvider}},
		{"no candidates", `{"usageMetadata":{"promptTokenCount":7}}`,
			errFields{Status: http.StatusBadGateway, Type: llm.TypeAPI, Code: "invalid_upstream_response", Fault: llm.FaultProvider}},
		{"not JSON", `<html>oops</html>`,
			errFields{Status: http.StatusBadGateway, Type: llm.TypeAPI, Code: "invalid_upstream_response", Fault: llm.FaultProvider}},
		{"error in a 200", `{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}`,
			errFields{Status: http.StatusServiceUnavailable, Type: llm.TypeOverloaded, Code: "unavailable", Fault: llm.FaultProvider}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeGenerateResponse([]byte(tc.body))
			if err == nil {
				t.Fatal("no error")
			}
			if diff := cmp.Diff(tc.want, fieldsOf(t, err)); diff != "" {
				t.Errorf("error %v (-want +got):\n%s", err, diff)
			}
		})
	}
}

func TestFinishReason(t *testing.T) {
	tests := []struct {
		in    string
		calls bool
		want  llm.FinishReason
	}{
		{"STOP", false, llm.FinishStop},
		{"STOP", true, llm.FinishToolCalls},
		{"MAX_TOKENS", true, llm.FinishLength},
		{"SAFETY", false, llm.FinishContentFilter},
		{"RECITATION", false, llm.FinishContentFilter},
		{"BLOCKLIST", false, llm.FinishContentFilter},
		{"PROHIBITED_CONTENT", false, llm.FinishContentFilter},
		{"SPII", false, llm.FinishContentFilter},
		{"MALFORMED_FUNCTION_CALL", false, llm.FinishStop},
		{"OTHER", false, llm.FinishStop},
		{"", false, ""},
	}
	for _, tc := range tests {
		if got := finishReason(tc.in, tc.calls); got != tc.want {
			t.Errorf("finishReason(%q, %v) = %q, want %q", tc.in, tc.calls, got, tc.want)
		}
	}
}
