package mock

import (
	"net/http"

	"github.com/sluicehq/sluice/internal/jsonw"
)

// fail answers with an error in the shape of the API that was called:
//
//	OpenAI:    {"error":{"message","type","param","code"}}
//	Anthropic: {"type":"error","error":{"type","message"},"request_id"}
//	Gemini:    {"error":{"code","message","status"}}
//
// code and param may be empty (OpenAI then sends null); Anthropic and
// Gemini errors carry neither.
func (x *exchange) fail(status int, code, param, msg string) {
	b := getBuf()
	defer putBuf(b)
	buf := *b
	switch x.api {
	case apiAnthropic:
		buf = append(buf, `{"type":"error","error":{"type":`...)
		buf = jsonw.AppendString(buf, anthropicErrorType(status))
		buf = append(buf, `,"message":`...)
		buf = jsonw.AppendString(buf, msg)
		buf = append(buf, `},"request_id":`...)
		buf = appendID(buf, "req_mock_", x.seq)
		buf = append(buf, '}')
	case apiGemini:
		buf = append(buf, `{"error":{"code":`...)
		buf = jsonw.AppendInt(buf, int64(status))
		buf = append(buf, `,"message":`...)
		buf = jsonw.AppendString(buf, msg)
		buf = append(buf, `,"status":`...)
		buf = jsonw.AppendString(buf, googleStatus(status))
		buf = append(buf, `}}`...)
	default:
		typ, defCode := openAIErrorType(status)
		if code == "" {
			code = defCode
		}
		buf = append(buf, `{"error":{"message":`...)
		buf = jsonw.AppendString(buf, msg)
		buf = append(buf, `,"type":`...)
		buf = jsonw.AppendString(buf, typ)
		buf = append(buf, `,"param":`...)
		buf = jsonw.AppendStringOrNull(buf, param)
		buf = append(buf, `,"code":`...)
		buf = jsonw.AppendStringOrNull(buf, code)
		buf = append(buf, `}}`...)
	}
	*b = buf
	writeJSON(x.w, status, buf, false)
}

// openAIErrorType returns OpenAI's error type for status, and the code it
// sends with it when the mock has no more specific one.
func openAIErrorType(status int) (typ, code string) {
	switch {
	case status == http.StatusUnauthorized:
		return "invalid_request_error", "invalid_api_key"
	case status == http.StatusForbidden:
		return "permission_error", ""
	case status == http.StatusTooManyRequests:
		return "requests", "rate_limit_exceeded"
	case status >= 500:
		return "server_error", ""
	}
	return "invalid_request_error", ""
}

// anthropicErrorType returns Anthropic's error type for status.
func anthropicErrorType(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid_request_error"
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case http.StatusServiceUnavailable, 529:
		return "overloaded_error"
	case http.StatusGatewayTimeout:
		return "timeout_error"
	}
	if status >= 500 {
		return "api_error"
	}
	return "invalid_request_error"
}

// googleStatus returns the google.rpc.Code name Google APIs send for status.
func googleStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "INVALID_ARGUMENT"
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusConflict:
		return "ABORTED"
	case http.StatusTooManyRequests:
		return "RESOURCE_EXHAUSTED"
	case 499:
		return "CANCELLED"
	case http.StatusNotImplemented:
		return "UNIMPLEMENTED"
	case http.StatusServiceUnavailable:
		return "UNAVAILABLE"
	case http.StatusGatewayTimeout:
		return "DEADLINE_EXCEEDED"
	}
	if status >= 500 {
		return "INTERNAL"
	}
	return "INVALID_ARGUMENT"
}
