package openai

import (
	"errors"
	"net/http"
	"path/filepath"
	"strconv"
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
		{"param and code null when empty", &llm.Error{Status: 500, Type: llm.TypeAPI, Message: "internal gateway error",
			Err: errors.New("secret detail")},
			`{"error":{"message":"internal gateway error","type":"api_error","param":null,"code":null}}`},
		{"all fields", llm.Unsupported("oa", "top_k"),
			`{"error":{"message":"parameter \"top_k\" is not supported by provider \"oa\"","type":"invalid_request_error","param":"top_k","code":"unsupported_parameter"}}`},
		{"empty type and message", &llm.Error{Status: 429},
			`{"error":{"message":"Too Many Requests","type":"api_error","param":null,"code":null}}`},
		{"nil", nil,
			`{"error":{"message":"internal gateway error","type":"api_error","param":null,"code":null}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, string(EncodeError(tc.err))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			want := "data: " + tc.want + "\n\n"
			if diff := cmp.Diff("x"+want, string(AppendStreamError([]byte("x"), tc.err))); diff != "" {
				t.Errorf("stream error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeError(t *testing.T) {
	retry := http.Header{"Retry-After": {"7"}}
	tests := []struct {
		name   string
		status int
		h      http.Header
		body   string
		want   llm.Error // Provider, Fault and Err are checked apart
	}{
		{"400 keeps param and code", 400, nil,
			`{"error":{"message":"Invalid value for 'temperature': must be at most 2.","type":"invalid_request_error","param":"temperature","code":"invalid_value"}}`,
			llm.Error{Status: 400, Type: llm.TypeInvalidRequest, Param: "temperature", Code: "invalid_value",
				Message: "Invalid value for 'temperature': must be at most 2."}},
		{"context length", 400, nil,
			`{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`,
			llm.Error{Status: 400, Type: llm.TypeInvalidRequest, Param: "messages", Code: "context_length_exceeded",
				Message: "This model's maximum context length is 128000 tokens."}},
		{"401 is the gateway's credential", 401, nil,
			`{"error":{"message":"Incorrect API key provided: sk-proj-****abcd.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`,
			llm.Error{Status: 502, Type: llm.TypeAPI, Code: "upstream_auth_failed",
				Message: `provider "up" rejected the gateway's credentials`}},
		{"404 model", 404, nil,
			`{"error":{"message":"The model 'gpt-9' does not exist","type":"invalid_request_error","param":"model","code":"model_not_found"}}`,
			llm.Error{Status: 404, Type: llm.TypeInvalidRequest, Param: "model", Code: "model_not_found",
				Message: "The model 'gpt-9' does not exist"}},
		{"429 keeps Retry-After", 429, retry,
			`{"error":{"message":"Rate limit reached for gpt-4o","type":"requests","param":null,"code":"rate_limit_exceeded"}}`,
			llm.Error{Status: 429, Type: llm.TypeRateLimit, Code: "rate_limit_exceeded",
				Message: "Rate limit reached for gpt-4o", RetryAfter: 7 * time.Second}},
		{"500 is 502", 500, nil,
			`{"error":{"message":"The server had an error processing your request.","type":"server_error","param":null,"code":null}}`,
			llm.Error{Status: 502, Type: "server_error", Message: "The server had an error processing your request."}},
		{"503 overloaded", 503, nil, `{"error":{"message":"The engine is currently overloaded","type":"server_error"}}`,
			llm.Error{Status: 503, Type: llm.TypeOverloaded, Message: "The engine is currently overloaded"}},
		{"non-JSON body", 502, nil, "<html><body>502 Bad Gateway</body></html>",
			llm.Error{Status: 502, Type: llm.TypeAPI, Message: `provider "up" returned HTTP 502`}},
		{"empty body", 500, nil, "",
			llm.Error{Status: 502, Type: llm.TypeAPI, Message: `provider "up" returned HTTP 500`}},
		{"bare error string", 400, nil, `{"error":"model is required"}`,
			llm.Error{Status: 400, Type: llm.TypeInvalidRequest, Message: "model is required"}},
		{"top-level message", 422, nil, `{"object":"error","message":"Extra inputs are not permitted","type":"invalid_request_error","code":null}`,
			llm.Error{Status: 422, Type: llm.TypeInvalidRequest, Message: "Extra inputs are not permitted"}},
		{"FastAPI detail", 400, nil, `{"detail":"Not Found"}`,
			llm.Error{Status: 400, Type: llm.TypeInvalidRequest, Message: "Not Found"}},
		{"numeric code equal to status", 400, nil, `{"error":{"message":"bad","code":400,"type":"BadRequestError"}}`,
			llm.Error{Status: 400, Type: "BadRequestError", Message: "bad"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := DecodeError("up", tc.status, tc.h, []byte(tc.body))
			got := llm.Error{Status: e.Status, Type: e.Type, Code: e.Code, Param: e.Param, Message: e.Message, RetryAfter: e.RetryAfter}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if e.Provider != "up" || e.Fault != llm.FaultProvider || e.Err == nil {
				t.Errorf("provider %q fault %v err %v", e.Provider, e.Fault, e.Err)
			}
			if strings.Contains(e.Error(), "sk-proj") || strings.Contains(e.Message, "sk-proj") {
				t.Errorf("credential fragment leaked: %v", e)
			}
		})
	}
}

// TestDecodeErrorGolden decodes recorded-style upstream error bodies; the
// file name starts with the HTTP status they came with.
func TestDecodeErrorGolden(t *testing.T) {
	for _, path := range fixtures(t, "testdata/errors/*.json") {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			status, err := strconv.Atoi(name[:3])
			if err != nil {
				t.Fatal(err)
			}
			e := DecodeError("up", status, http.Header{"Retry-After": {"2"}}, readFile(t, path))
			got := map[string]any{"Status": e.Status, "Type": e.Type, "Code": e.Code, "Param": e.Param,
				"Message": e.Message, "Provider": e.Provider, "Fault": e.Fault.String(),
				"RetryAfter": e.RetryAfter.String(), "Retryable": e.Retryable()}
			goldenValue(t, filepath.Join("testdata/golden/error_decode", name+".json"), got)
			if strings.Contains(e.Error(), "Xy9Z") {
				t.Errorf("a credential fragment reached the error: %v", e)
			}
		})
	}
}
