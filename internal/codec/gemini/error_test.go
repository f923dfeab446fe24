package gemini

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sluicehq/sluice/internal/llm"
)

func TestDecodeError(t *testing.T) {
	type want struct {
		Fields     errFields
		Message    string
		RetryAfter time.Duration
	}
	prov := func(status int, typ, code, param, msg string) want {
		return want{errFields{Status: status, Type: typ, Code: code, Param: param, Provider: "google",
			Fault: llm.FaultProvider}, msg, 0}
	}
	authFailed := prov(http.StatusBadGateway, llm.TypeAPI, "upstream_auth_failed", "",
		`provider "google" rejected the gateway's credentials`)
	permissionDenied := prov(http.StatusBadGateway, llm.TypeAPI, "upstream_permission_denied", "",
		`provider "google" refused this request with the gateway's credentials: they lack permission for it (for instance for this model)`)
	tests := []struct {
		name   string
		status int
		body   string
		want   want
	}{
		{"invalid argument", 400,
			`{"error":{"code":400,"message":"* GenerateContentRequest.contents: contents is not specified\n","status":"INVALID_ARGUMENT"}}`,
			prov(400, llm.TypeInvalidRequest, "invalid_argument", "", "* GenerateContentRequest.contents: contents is not specified\n")},
		{"failed precondition", 400,
			`{"error":{"code":400,"message":"User location is not supported for the API use.","status":"FAILED_PRECONDITION"}}`,
			prov(400, llm.TypeInvalidRequest, "failed_precondition", "", "User location is not supported for the API use.")},
		{"invalid API key is an auth failure", 400,
			`{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}}]}}`,
			authFailed},
		{"permission denied", 403,
			`{"error":{"code":403,"message":"Method doesn't allow unregistered callers.","status":"PERMISSION_DENIED"}}`,
			permissionDenied},
		{"expired API key is an auth failure", 403,
			`{"error":{"code":403,"message":"API key expired. Please renew the API key.","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}`,
			authFailed},
		{"leaked API key is an auth failure", 403,
			`{"error":{"code":403,"message":"Your API key was reported as leaked. Please use another API key.","status":"PERMISSION_DENIED"}}`,
			authFailed},
		{"API key restriction is a permission refusal", 403,
			`{"error":{"code":403,"message":"Requests to this API are blocked.","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_SERVICE_BLOCKED","domain":"googleapis.com"}]}}`,
			permissionDenied},
		{"unauthenticated", 401,
			`{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}`,
			authFailed},
		{"model not found", 404,
			`{"error":{"code":404,"message":"models/gemini-9 is not found for API version v1beta, or is not supported for generateContent.","status":"NOT_FOUND"}}`,
			prov(404, llm.TypeNotFound, "model_not_found", "model", "models/gemini-9 is not found for API version v1beta, or is not supported for generateContent.")},
		{"other not found", 404,
			`{"error":{"code":404,"message":"File abc does not exist.","status":"NOT_FOUND"}}`,
			prov(404, llm.TypeNotFound, "not_found", "", "File abc does not exist.")},
		{"rate limited with retry info", 429,
			`{"error":{"code":429,"message":"You exceeded your current quota.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"37s"}]}}`,
			func() want {
				w := prov(429, llm.TypeRateLimit, "rate_limit_exceeded", "", "You exceeded your current quota.")
				w.RetryAfter = 37 * time.Second
				return w
			}()},
		{"internal", 500,
			`{"error":{"code":500,"message":"An internal error has occurred.","status":"INTERNAL"}}`,
			prov(502, llm.TypeAPI, "internal", "", "An internal error has occurred.")},
		{"unavailable", 503,
			`{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}`,
			prov(503, llm.TypeOverloaded, "unavailable", "", "The model is overloaded. Please try again later.")},
		{"deadline exceeded", 504,
			`{"error":{"code":504,"message":"Deadline expired before operation could complete.","status":"DEADLINE_EXCEEDED"}}`,
			prov(504, llm.TypeTimeout, "deadline_exceeded", "", "Deadline expired before operation could complete.")},
		{"array-wrapped body", 400,
			`[{"error":{"code":400,"message":"Bad field.","status":"INVALID_ARGUMENT"}}]`,
			prov(400, llm.TypeInvalidRequest, "invalid_argument", "", "Bad field.")},
		{"status string wins over HTTP status", 500,
			`{"error":{"code":503,"message":"busy","status":"UNAVAILABLE"}}`,
			prov(503, llm.TypeOverloaded, "unavailable", "", "busy")},
		{"HTML from a proxy", 502, `<html><body>Bad Gateway</body></html>`,
			prov(502, llm.TypeAPI, "", "", `provider "google" returned HTTP 502`)},
		{"empty body", 429, ``,
			prov(429, llm.TypeRateLimit, "", "", `provider "google" returned HTTP 429`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := DecodeError("google", tc.status, http.Header{}, []byte(tc.body))
			got := want{errFields{e.Status, e.Type, e.Code, e.Param, e.Provider, e.Fault}, e.Message, e.RetryAfter}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if e.Err == nil {
				t.Error("the upstream's details are not kept in Err for the log")
			}
		})
	}
}

func TestDecodeErrorBoundsLoggedBody(t *testing.T) {
	e := DecodeError("google", 502, nil, []byte(strings.Repeat("x", 10000)))
	if n := len(e.Err.Error()); n > 600 {
		t.Errorf("logged cause is %d bytes; the body must be truncated", n)
	}
}
