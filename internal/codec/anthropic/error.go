package anthropic

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
)

// Anthropic error types that differ from the canonical (OpenAI) ones.
const (
	errRequestTooLarge = "request_too_large"
	errBilling         = "billing_error"
)

// EncodeError returns err as an Anthropic error body,
// {"type":"error","error":{"type":...,"message":...}}, with the canonical
// type mapped to Anthropic's (a 413 is request_too_large, a 404
// not_found_error). Only err.Message is shown; a nil err is an internal
// error.
func EncodeError(err *llm.Error) []byte {
	return appendErrorBody(make([]byte, 0, 96+len(messageOf(err))), err)
}

// AppendStreamError appends err as an Anthropic "error" stream event, the
// way a failure after the response has started is reported.
func AppendStreamError(dst []byte, err *llm.Error) []byte {
	dst = append(dst, "event: error\ndata: "...)
	return append(appendErrorBody(dst, err), '\n', '\n')
}

func messageOf(err *llm.Error) string {
	if err == nil {
		return "internal gateway error"
	}
	return err.Message
}

func appendErrorBody(dst []byte, err *llm.Error) []byte {
	dst = append(dst, `{"type":"error","error":{"type":`...)
	dst = jsonw.AppendString(dst, errorType(err))
	dst = appendStringField(dst, "message", messageOf(err))
	return append(dst, '}', '}')
}

// errorType maps a canonical error to Anthropic's error type.
func errorType(err *llm.Error) string {
	if err == nil {
		return llm.TypeAPI
	}
	switch err.Status {
	case http.StatusRequestEntityTooLarge:
		return errRequestTooLarge
	case http.StatusNotFound:
		return llm.TypeNotFound
	}
	switch err.Type {
	case llm.TypeInvalidRequest, llm.TypeAuthentication, llm.TypePermission, llm.TypeNotFound,
		llm.TypeRateLimit, llm.TypeAPI, llm.TypeOverloaded, llm.TypeTimeout:
		return err.Type
	}
	switch s := err.Status; {
	case s == http.StatusUnauthorized:
		return llm.TypeAuthentication
	case s == http.StatusForbidden:
		return llm.TypePermission
	case s == http.StatusTooManyRequests:
		return llm.TypeRateLimit
	case s == http.StatusServiceUnavailable || s == 529:
		return llm.TypeOverloaded
	case s == http.StatusGatewayTimeout:
		return llm.TypeTimeout
	case s >= 400 && s < 500:
		return llm.TypeInvalidRequest
	}
	return llm.TypeAPI
}

// DecodeError maps an Anthropic error answer (status, headers, and at most
// provider.MaxErrorBody bytes of body) to a canonical error via
// llm.ProviderStatusError: the upstream's message is kept for the client
// (except for credential failures), its type mapped to the canonical one.
// A body that is not an Anthropic error still yields an error for the
// status, with a snippet of the body kept in Err for the log only. The
// Retry-After header is left to provider.Send.
func DecodeError(provider string, status int, h http.Header, body []byte) *llm.Error {
	var w wireError
	var typ, code, msg string
	var cause error
	if json.Unmarshal(body, &w) == nil && (w.Error.Type != "" || w.Error.Message != "") {
		typ, code, msg = canonicalErrorType(w.Error.Type), errorCode(w.Error.Type), w.Error.Message
		cause = fmt.Errorf("anthropic: HTTP %d %s: %s", status, w.Error.Type, w.Error.Message)
	} else {
		cause = fmt.Errorf("anthropic: HTTP %d with a body that is not an Anthropic error: %q", status, snippet(body))
	}
	if id := h.Get("request-id"); id != "" {
		cause = fmt.Errorf("%w (request-id %s)", cause, id)
	}
	e := llm.ProviderStatusError(provider, status, typ, code, "", msg, 0)
	e.Err = cause
	return e
}

// errorFromDetail maps an error carried in a 200 answer (a stream's error
// event, or an error body) to a canonical error, deriving the status
// Anthropic would have answered with from the error type.
func errorFromDetail(provider string, d *wireErrorDetail) *llm.Error {
	status := http.StatusInternalServerError
	switch d.Type {
	case llm.TypeInvalidRequest:
		status = http.StatusBadRequest
	case llm.TypeAuthentication:
		status = http.StatusUnauthorized
	case errBilling:
		status = http.StatusPaymentRequired
	case llm.TypePermission:
		status = http.StatusForbidden
	case llm.TypeNotFound:
		status = http.StatusNotFound
	case errRequestTooLarge:
		status = http.StatusRequestEntityTooLarge
	case llm.TypeRateLimit:
		status = http.StatusTooManyRequests
	case llm.TypeTimeout:
		status = http.StatusGatewayTimeout
	case llm.TypeOverloaded:
		status = 529
	}
	e := llm.ProviderStatusError(provider, status, canonicalErrorType(d.Type), errorCode(d.Type), "", d.Message, 0)
	e.Err = fmt.Errorf("anthropic: %s: %s", d.Type, d.Message)
	return e
}

// canonicalErrorType returns the canonical type for an Anthropic error
// type, or "" to let the status decide.
func canonicalErrorType(t string) string {
	switch t {
	case llm.TypeInvalidRequest, llm.TypeAuthentication, llm.TypePermission, llm.TypeNotFound,
		llm.TypeRateLimit, llm.TypeAPI, llm.TypeOverloaded, llm.TypeTimeout:
		return t
	case errRequestTooLarge:
		return llm.TypeInvalidRequest
	}
	return ""
}

// errorCode keeps Anthropic error types that have no canonical type as
// the error's code.
func errorCode(t string) string {
	switch t {
	case errRequestTooLarge, errBilling:
		return t
	}
	return ""
}

// snippet returns at most 256 bytes of b, for a log line.
func snippet(b []byte) string {
	const n = 256
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}
