package openai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
)

// EncodeError returns err in OpenAI's error shape:
// {"error":{"message":…,"type":…,"param":…,"code":…}}, with param and code
// null when empty, as OpenAI sends them. Only the client-safe fields are
// written; err.Err never is. A nil err gives a generic 500 body.
func EncodeError(err *llm.Error) []byte {
	return appendErrorJSON(make([]byte, 0, 128+len(errMessage(err))), err)
}

// AppendStreamError appends err as the event OpenAI sends when a stream fails
// after it started: data: {"error":{…}} followed by a blank line.
func AppendStreamError(dst []byte, err *llm.Error) []byte {
	dst = append(dst, "data: "...)
	dst = appendErrorJSON(dst, err)
	return append(dst, '\n', '\n')
}

func errMessage(err *llm.Error) string {
	if err == nil {
		return ""
	}
	return err.Message
}

func appendErrorJSON(dst []byte, err *llm.Error) []byte {
	if err == nil {
		err = llm.AsError(fmt.Errorf("openai: nil error encoded"))
	}
	typ := err.Type
	if typ == "" {
		typ = llm.TypeAPI
	}
	msg := err.Message
	if msg == "" {
		msg = http.StatusText(err.Status)
	}
	dst = append(dst, `{"error":{"message":`...)
	dst = jsonw.AppendString(dst, msg)
	dst = append(dst, `,"type":`...)
	dst = jsonw.AppendString(dst, typ)
	dst = append(dst, `,"param":`...)
	dst = jsonw.AppendStringOrNull(dst, err.Param)
	dst = append(dst, `,"code":`...)
	dst = jsonw.AppendStringOrNull(dst, err.Code)
	return append(dst, '}', '}')
}

// wireError is OpenAI's error object. Compatible servers vary: code may be a
// number, type and param may be null.
type wireError struct {
	Message string   `json:"message"`
	Type    string   `json:"type"`
	Param   flexText `json:"param"`
	Code    flexText `json:"code"`
}

// flexText decodes a JSON string or number as text; null leaves it empty.
type flexText string

func (t *flexText) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0 || b[0] == 'n':
		return nil
	case b[0] == '"':
		s, err := jsonw.Unquote(b)
		if err != nil {
			return err
		}
		*t = flexText(s)
	case b[0] == '-' || b[0] >= '0' && b[0] <= '9':
		*t = flexText(b)
	}
	// Objects, arrays and booleans carry nothing useful here: ignored.
	return nil
}

// errorEnvelope is what upstreams put in an error body: OpenAI's
// {"error":{…}}, or a bare {"error":"text"}, {"message":"text"} or FastAPI's
// {"detail":"text"} from compatible servers.
type errorEnvelope struct {
	Error   json.RawMessage `json:"error"`
	Message string          `json:"message"`
	Detail  json.RawMessage `json:"detail"`
}

// parseErrorBody extracts the error fields from an upstream error body. ok is
// false when the body is not a JSON error at all.
func parseErrorBody(body []byte) (e wireError, ok bool) {
	var env errorEnvelope
	if json.Unmarshal(body, &env) != nil {
		return e, false
	}
	switch raw := jsonw.TrimSpace(env.Error); {
	case len(raw) > 0 && raw[0] == '{':
		if json.Unmarshal(raw, &e) != nil {
			return e, false
		}
		return e, true
	case len(raw) > 0 && raw[0] == '"':
		ok = json.Unmarshal(raw, &e.Message) == nil
		return e, ok
	}
	if env.Message != "" {
		e.Message = env.Message
		return e, true
	}
	if raw := jsonw.TrimSpace(env.Detail); len(raw) > 0 && raw[0] == '"' {
		ok = json.Unmarshal(raw, &e.Message) == nil
		return e, ok
	}
	return e, false
}

// DecodeError turns an upstream's non-2xx answer into a canonical error
// (it is a provider.ErrorDecoder). The status is mapped by
// llm.ProviderStatusError; the upstream's message, type, param and code are
// kept when the body is OpenAI-shaped. Bodies that are not JSON are
// tolerated: the client then gets a generic message, and the log (Err) a
// bounded excerpt of the body — never for 401/403, whose bodies may echo
// part of the credential.
func DecodeError(provider string, status int, h http.Header, body []byte) *llm.Error {
	we, _ := parseErrorBody(body)
	code := string(we.Code)
	if code == strconv.Itoa(status) {
		code = "" // servers that put the HTTP status in code say nothing more
	}
	e := llm.ProviderStatusError(provider, status, we.Type, code, string(we.Param),
		we.Message, retryAfter(h))
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		e.Err = fmt.Errorf("openai: upstream HTTP %d", status)
	} else {
		e.Err = fmt.Errorf("openai: upstream HTTP %d: %s", status, excerpt(body, 512))
	}
	return e
}

func retryAfter(h http.Header) time.Duration {
	if h == nil {
		return 0
	}
	return provider.RetryAfter(h)
}

// excerpt returns at most n bytes of b as valid UTF-8 text for logs.
func excerpt(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	if len(b) > n {
		b = b[:n]
		for len(b) > 0 && !utf8.Valid(b) {
			b = b[:len(b)-1]
		}
		return string(b) + "…"
	}
	return string(bytes.ToValidUTF8(b, []byte("\uFFFD")))
}

// streamError maps an error object an upstream sent inside a stream. There is
// no HTTP status to go by: a numeric code that is an HTTP status is used,
// otherwise the type decides (rate limits 429, invalid requests 400,
// anything else a 502 upstream failure).
func streamError(provider string, we wireError) *llm.Error {
	status := http.StatusBadGateway
	code := string(we.Code)
	if n, err := strconv.Atoi(code); err == nil && n >= 400 && n <= 599 {
		status, code = n, ""
	} else {
		switch we.Type {
		case llm.TypeRateLimit, "rate_limit_exceeded", "tokens":
			status = http.StatusTooManyRequests
		case llm.TypeInvalidRequest:
			status = http.StatusBadRequest
		case llm.TypeOverloaded:
			status = http.StatusServiceUnavailable
		}
		if code == "rate_limit_exceeded" {
			status = http.StatusTooManyRequests
		}
	}
	e := llm.ProviderStatusError(provider, status, we.Type, code, string(we.Param), we.Message, 0)
	e.Err = fmt.Errorf("openai: error event in stream: %s", we.Message)
	return e
}
