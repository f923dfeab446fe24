package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/internal/llm"
)

// StatusClientClosed is the status recorded when the client went away before
// the answer was complete (nginx's 499).
const StatusClientClosed = 499

// MaxErrorBody bounds how much of an upstream error body is read.
const MaxErrorBody = 64 << 10

// ErrorDecoder turns an upstream's non-2xx answer into a canonical error. It
// gets the status, the headers and at most MaxErrorBody bytes of the body.
type ErrorDecoder func(provider string, status int, h http.Header, body []byte) *llm.Error

// Send performs req with client and returns the response when the upstream
// answered 2xx. Any other outcome is an *llm.Error: transport failures are
// 502 (connect) or 504 (timeout), a cancelled caller 499, and non-2xx
// answers whatever decode makes of them (the body is read, bounded, and
// closed). On success the caller must close the response body.
func Send(client *http.Client, req *http.Request, provider string, decode ErrorDecoder) (*http.Response, error) {
	resp, err := client.Do(req)
	if err != nil {
		return nil, TransportError(req.Context(), provider, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody))
	resp.Body.Close()
	e := decode(provider, resp.StatusCode, resp.Header, body)
	if e.RetryAfter == 0 {
		e.RetryAfter = RetryAfter(resp.Header)
	}
	return nil, e
}

// TransportError maps an error from sending a request or reading its body.
func TransportError(ctx context.Context, provider string, err error) *llm.Error {
	e := &llm.Error{Provider: provider, Fault: llm.FaultProvider, Err: err}
	var ne net.Error
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		e.Status, e.Type, e.Code = StatusClientClosed, llm.TypeAPI, "client_closed"
		e.Message = "the client closed the request"
		e.Fault = llm.FaultCaller
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		e.Status, e.Type, e.Code = http.StatusGatewayTimeout, llm.TypeTimeout, "upstream_timeout"
		e.Message = fmt.Sprintf("provider %q did not answer in time", provider)
	default:
		e.Status, e.Type, e.Code = http.StatusBadGateway, llm.TypeAPI, "upstream_unreachable"
		e.Message = fmt.Sprintf("provider %q could not be reached", provider)
	}
	return e
}

// RetryAfter reads a Retry-After header (seconds or an HTTP date), and the
// retry-after-ms header some providers send. Zero when absent or invalid.
func RetryAfter(h http.Header) time.Duration {
	if v := h.Get("retry-after-ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}
