package anthropic

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
)

func TestEncodeError(t *testing.T) {
	tests := []struct {
		name string
		err  *llm.Error
		want string
	}{
		{"bad request", llm.BadRequest("max_tokens", "max_tokens: field required"),
			`{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: field required"}}`},
		{"model not found", llm.ModelNotFound("x"),
			`{"type":"error","error":{"type":"not_found_error","message":"the model \"x\" does not exist or is not served by this gateway"}}`},
		{"too large", &llm.Error{Status: 413, Type: llm.TypeInvalidRequest, Message: "too big"},
			`{"type":"error","error":{"type":"request_too_large","message":"too big"}}`},
		{"overloaded", &llm.Error{Status: 503, Type: llm.TypeOverloaded, Message: "busy"},
			`{"type":"error","error":{"type":"overloaded_error","message":"busy"}}`},
		{"rate limit by status", &llm.Error{Status: 429, Message: "slow"},
			`{"type":"error","error":{"type":"rate_limit_error","message":"slow"}}`},
		{"auth by status", &llm.Error{Status: 401, Message: "who"},
			`{"type":"error","error":{"type":"authentication_error","message":"who"}}`},
		{"forbidden by status", &llm.Error{Status: 403, Type: "custom", Message: "no"},
			`{"type":"error","error":{"type":"permission_error","message":"no"}}`},
		{"timeout", &llm.Error{Status: 504, Type: llm.TypeTimeout, Message: "late"},
			`{"type":"error","error":{"type":"timeout_error","message":"late"}}`},
		{"cause not shown", &llm.Error{Status: 500, Type: llm.TypeAPI, Message: "internal gateway error", Err: errors.New("secret sk-ant-xyz")},
			`{"type":"error","error":{"type":"api_error","message":"internal gateway error"}}`},
		{"nil", nil, `{"type":"error","error":{"type":"api_error","message":"internal gateway error"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := EncodeError(tc.err)
			if diff := cmp.Diff(jsonValue(t, []byte(tc.want)), jsonValue(t, got)); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAppendStreamError(t *testing.T) {
	got := string(AppendStreamError([]byte("x"), &llm.Error{Status: 529, Type: llm.TypeOverloaded, Message: "Overloaded"}))
	want := "xevent: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"
	if got != want {
		t.Errorf("AppendStreamError = %q, want %q", got, want)
	}
}

func TestDecodeError(t *testing.T) {
	body := func(typ, msg string) string {
		return `{"type":"error","error":{"type":"` + typ + `","message":"` + msg + `"},"request_id":"req_1"}`
	}
	tests := []struct {
		name       string
		status     int
		body       string
		wantStatus int
		wantType   string
		wantCode   string
		wantMsg    string // substring
	}{
		{"invalid request", 400, body("invalid_request_error", "messages.0: bad"), 400, llm.TypeInvalidRequest, "", "messages.0: bad"},
		{"auth hidden", 401, body("authentication_error", "invalid x-api-key"), 502, llm.TypeAPI, "upstream_auth_failed", "rejected the gateway's credentials"},
		{"permission hidden", 403, body("permission_error", "no access"), 502, llm.TypeAPI, "upstream_permission_denied", "credentials"},
		{"403 authentication", 403, body("authentication_error", "invalid x-api-key"), 502, llm.TypeAPI, "upstream_auth_failed", "rejected the gateway's credentials"},
		{"not found", 404, body("not_found_error", "model: claude-9"), 404, llm.TypeNotFound, "", "claude-9"},
		{"too large", 413, body("request_too_large", "Request exceeds the maximum size"), 413, llm.TypeInvalidRequest, "request_too_large", "maximum size"},
		{"rate limited", 429, body("rate_limit_error", "slow down"), 429, llm.TypeRateLimit, "", "slow down"},
		{"server error", 500, body("api_error", "Internal server error"), 502, llm.TypeAPI, "", "Internal server error"},
		{"overloaded", 529, body("overloaded_error", "Overloaded"), 503, llm.TypeOverloaded, "", "Overloaded"},
		{"billing", 400, body("billing_error", "credit balance too low"), 400, llm.TypeInvalidRequest, "billing_error", "credit"},
		{"html body", 502, "<html><body>Bad Gateway</body></html>", 502, llm.TypeAPI, "", `provider "claude" returned HTTP 502`},
		{"empty body", 503, "", 503, llm.TypeOverloaded, "", "returned HTTP 503"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{"Request-Id": {"req_1"}}
			e := DecodeError("claude", tc.status, h, []byte(tc.body))
			if e.Status != tc.wantStatus || e.Type != tc.wantType || e.Code != tc.wantCode {
				t.Errorf("error = %d %s %q, want %d %s %q", e.Status, e.Type, e.Code, tc.wantStatus, tc.wantType, tc.wantCode)
			}
			if !strings.Contains(e.Message, tc.wantMsg) {
				t.Errorf("Message = %q, want it to contain %q", e.Message, tc.wantMsg)
			}
			if e.Provider != "claude" || e.Fault != llm.FaultProvider || e.Err == nil || !strings.Contains(e.Err.Error(), "req_1") {
				t.Errorf("error = %+v, want provider claude, provider fault, a cause naming the request id", e)
			}
			if e.RetryAfter != time.Duration(0) {
				t.Errorf("RetryAfter = %v, want 0 (provider.Send reads the header)", e.RetryAfter)
			}
		})
	}
}
