package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/llm"
)

// DecodeError turns a Gemini error answer into a canonical error (it is a
// provider.ErrorDecoder). The body is Google's {"error":{code, message,
// status, details}}, possibly wrapped in an array (streamGenerateContent
// without alt=sse answers that way); any other body gives a generic error
// for the HTTP status. The status string decides the canonical status:
//
//	INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE  400
//	UNAUTHENTICATED                                      401 → 502 upstream_auth_failed
//	PERMISSION_DENIED                                    403 → 502 upstream_permission_denied
//	NOT_FOUND                                            404 (model_not_found for models)
//	RESOURCE_EXHAUSTED                                   429
//	INTERNAL, UNKNOWN, UNIMPLEMENTED                     502
//	UNAVAILABLE                                          503
//	DEADLINE_EXCEEDED                                    504
//
// Gemini reports an invalid or expired API key as a 400 INVALID_ARGUMENT
// (or a 403 PERMISSION_DENIED) with an ErrorInfo reason API_KEY_INVALID,
// and a revoked one as a 403 "Your API key was reported as leaked" (or a
// suspended consumer: CONSUMER_SUSPENDED, "Consumer 'api_key:…' has been
// suspended"): those are refusals of the key, mapped as a 401 (upstream_auth_failed). Other
// 403s, the key restrictions (API_KEY_SERVICE_BLOCKED, …_IP_ADDRESS_BLOCKED)
// and SERVICE_DISABLED included, are permission refusals
// (upstream_permission_denied) that leave the key in use.
// A RetryInfo detail's retryDelay becomes the error's RetryAfter.
func DecodeError(provider string, status int, h http.Header, body []byte) *llm.Error {
	b := bytes.TrimSpace(body)
	var ae *apiErrorBody
	if len(b) > 0 {
		var env struct {
			Error *apiErrorBody `json:"error"`
		}
		if b[0] == '[' {
			var arr []struct {
				Error *apiErrorBody `json:"error"`
			}
			if json.Unmarshal(b, &arr) == nil && len(arr) > 0 {
				ae = arr[0].Error
			}
		} else if json.Unmarshal(b, &env) == nil {
			ae = env.Error
		}
	}
	if ae == nil {
		st := status
		if st < 400 || st > 599 {
			st = http.StatusBadGateway // only failures come here; a 2xx or 3xx is a broken upstream
		}
		e := llm.ProviderStatusError(provider, st, "", "", "", "", 0)
		e.Err = fmt.Errorf("gemini: HTTP %d: %s", status, truncate(b, 512))
		return e
	}
	return decodeAPIError(provider, status, ae)
}

// decodeAPIError maps a decoded Google error. status is the HTTP status, or
// 0 for an error reported inside a 200 stream.
func decodeAPIError(provider string, status int, ae *apiErrorBody) *llm.Error {
	st := statusFor(ae.Status)
	if st == 0 {
		st = ae.Code
	}
	if st < 400 || st > 599 {
		st = status
	}
	if st < 400 || st > 599 {
		st = http.StatusBadGateway
	}
	code := strings.ToLower(ae.Status)
	param := ""
	var retry time.Duration
	if keyRefused(ae) {
		st = http.StatusUnauthorized
	}
	for _, d := range ae.Details {
		if d.RetryDelay != "" {
			if r, err := time.ParseDuration(d.RetryDelay); err == nil && r > 0 {
				retry = r
			}
		}
	}
	switch {
	case st == http.StatusNotFound && strings.Contains(ae.Message, "models/"):
		code, param = "model_not_found", "model"
	case st == http.StatusTooManyRequests:
		code = "rate_limit_exceeded"
	}
	e := llm.ProviderStatusError(provider, st, "", code, param, ae.Message, retry)
	e.Err = fmt.Errorf("gemini: %d %s: %s", ae.Code, ae.Status, ae.Message)
	return e
}

// keyRefused reports whether ae says the API key itself is invalid,
// expired, suspended or revoked, rather than not allowed this request.
func keyRefused(ae *apiErrorBody) bool {
	for _, d := range ae.Details {
		switch d.Reason {
		case "API_KEY_INVALID", "API_KEY_EXPIRED", "CONSUMER_SUSPENDED":
			return true
		}
	}
	return ae.Status == "PERMISSION_DENIED" && (strings.Contains(ae.Message, "API key was reported as leaked") ||
		strings.Contains(ae.Message, "Consumer 'api_key:") && strings.Contains(ae.Message, "has been suspended"))
}

// statusFor maps a google.rpc.Code name to an HTTP status; 0 if unknown.
func statusFor(s string) int {
	switch s {
	case "INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE":
		return http.StatusBadRequest
	case "UNAUTHENTICATED":
		return http.StatusUnauthorized
	case "PERMISSION_DENIED":
		return http.StatusForbidden
	case "NOT_FOUND":
		return http.StatusNotFound
	case "ALREADY_EXISTS", "ABORTED":
		return http.StatusConflict
	case "RESOURCE_EXHAUSTED":
		return http.StatusTooManyRequests
	case "INTERNAL", "UNKNOWN", "DATA_LOSS", "CANCELLED":
		return http.StatusInternalServerError
	case "UNIMPLEMENTED":
		return http.StatusNotImplemented
	case "UNAVAILABLE":
		return http.StatusServiceUnavailable
	case "DEADLINE_EXCEEDED":
		return http.StatusGatewayTimeout
	}
	return 0
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
