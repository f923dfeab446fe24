package telemetry

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/store"
)

// RecordJSON is the JSON shape of a store.Record, shared by the spool, the
// file and webhook exporters and the admin API. It has exactly
// store.Record's fields, so either converts to the other
// (RecordJSON(rec), (*RecordJSON)(&rec)) and a field added to store.Record
// breaks the build here until it gets a name.
//
// Every key is always present, in this order:
//
//	id, client_request_id, time (RFC 3339 with nanoseconds), tenant_id, team_id, key_id,
//	client_ip, route, model_requested, provider, model, attempts, status,
//	error_code, error_type, stream, cache_status, guardrails (array of
//	strings or null), prompt_tokens, completion_tokens, cached_tokens,
//	cache_write_tokens, reasoning_tokens, estimated, cost_micros,
//	saved_micros, price_known, latency_micros, ttft_micros, metadata
//	(object of strings, keys sorted, or null), request_body and
//	response_body (standard base64 with padding, or null), payload_truncated,
//	user_agent.
//
// Integers are JSON numbers; empty strings, zero numbers and false are
// written as such, not left out.
type RecordJSON struct {
	ID               string            `json:"id"`
	ClientRequestID  string            `json:"client_request_id"`
	Time             time.Time         `json:"time"`
	TenantID         string            `json:"tenant_id"`
	TeamID           string            `json:"team_id"`
	KeyID            string            `json:"key_id"`
	ClientIP         string            `json:"client_ip"`
	Route            string            `json:"route"`
	ModelRequested   string            `json:"model_requested"`
	Provider         string            `json:"provider"`
	Model            string            `json:"model"`
	Attempts         int               `json:"attempts"`
	Status           int               `json:"status"`
	ErrorCode        string            `json:"error_code"`
	ErrorType        string            `json:"error_type"`
	Stream           bool              `json:"stream"`
	CacheStatus      string            `json:"cache_status"`
	Guardrails       []string          `json:"guardrails"`
	PromptTokens     int               `json:"prompt_tokens"`
	CompletionTokens int               `json:"completion_tokens"`
	CachedTokens     int               `json:"cached_tokens"`
	CacheWriteTokens int               `json:"cache_write_tokens"`
	ReasoningTokens  int               `json:"reasoning_tokens"`
	Estimated        bool              `json:"estimated"`
	CostMicros       int64             `json:"cost_micros"`
	SavedMicros      int64             `json:"saved_micros"`
	PriceKnown       bool              `json:"price_known"`
	LatencyMicros    int64             `json:"latency_micros"`
	TTFTMicros       int64             `json:"ttft_micros"`
	Metadata         map[string]string `json:"metadata"`
	RequestBody      []byte            `json:"request_body"`
	ResponseBody     []byte            `json:"response_body"`
	PayloadTruncated bool              `json:"payload_truncated"`
	UserAgent        string            `json:"user_agent"`
}

// AppendRecordJSON appends r as one RecordJSON object (no trailing
// newline) to dst and returns the extended buffer. The bytes are exactly
// what a json.Encoder with SetEscapeHTML(false) writes for
// (*RecordJSON)(r) with r.Time in UTC; Time is always written in UTC.
// Time must lie in years 0–9999 (a request's arrival time does), or the
// text will not parse back. It keeps no reference to r.
func AppendRecordJSON(dst []byte, r *store.Record) []byte {
	dst = append(dst, '{')
	dst = appendStr(dst, "id", r.ID)
	dst = appendStr(dst, "client_request_id", r.ClientRequestID)
	dst = jsonw.AppendKey(dst, "time")
	dst = append(dst, '"')
	dst = r.Time.UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, '"')
	dst = appendStr(dst, "tenant_id", r.TenantID)
	dst = appendStr(dst, "team_id", r.TeamID)
	dst = appendStr(dst, "key_id", r.KeyID)
	dst = appendStr(dst, "client_ip", r.ClientIP)
	dst = appendStr(dst, "route", r.Route)
	dst = appendStr(dst, "model_requested", r.ModelRequested)
	dst = appendStr(dst, "provider", r.Provider)
	dst = appendStr(dst, "model", r.Model)
	dst = appendInt(dst, "attempts", int64(r.Attempts))
	dst = appendInt(dst, "status", int64(r.Status))
	dst = appendStr(dst, "error_code", r.ErrorCode)
	dst = appendStr(dst, "error_type", r.ErrorType)
	dst = appendBool(dst, "stream", r.Stream)
	dst = appendStr(dst, "cache_status", r.CacheStatus)
	dst = jsonw.AppendKey(dst, "guardrails")
	if r.Guardrails == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, g := range r.Guardrails {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonw.AppendString(dst, g)
		}
		dst = append(dst, ']')
	}
	dst = appendInt(dst, "prompt_tokens", int64(r.PromptTokens))
	dst = appendInt(dst, "completion_tokens", int64(r.CompletionTokens))
	dst = appendInt(dst, "cached_tokens", int64(r.CachedTokens))
	dst = appendInt(dst, "cache_write_tokens", int64(r.CacheWriteTokens))
	dst = appendInt(dst, "reasoning_tokens", int64(r.ReasoningTokens))
	dst = appendBool(dst, "estimated", r.Estimated)
	dst = appendInt(dst, "cost_micros", r.CostMicros)
	dst = appendInt(dst, "saved_micros", r.SavedMicros)
	dst = appendBool(dst, "price_known", r.PriceKnown)
	dst = appendInt(dst, "latency_micros", r.LatencyMicros)
	dst = appendInt(dst, "ttft_micros", r.TTFTMicros)
	dst = jsonw.AppendKey(dst, "metadata")
	dst = appendMetadata(dst, r.Metadata)
	dst = appendBytes(dst, "request_body", r.RequestBody)
	dst = appendBytes(dst, "response_body", r.ResponseBody)
	dst = appendBool(dst, "payload_truncated", r.PayloadTruncated)
	dst = appendStr(dst, "user_agent", r.UserAgent)
	return append(dst, '}')
}

// ParseRecordJSON decodes one RecordJSON object. Unknown keys are ignored
// (a newer writer may add some) and missing ones leave their field zero
// (an older writer had no client_request_id); a missing or empty id,
// trailing data or anything but one object is an error.
func ParseRecordJSON(b []byte) (store.Record, error) {
	var j RecordJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return store.Record{}, fmt.Errorf("telemetry: record json: %w", err)
	}
	if j.ID == "" {
		return store.Record{}, errNoID
	}
	return store.Record(j), nil
}

var errNoID = errors.New("telemetry: record json: no id")

func appendStr(dst []byte, key, s string) []byte {
	return jsonw.AppendString(jsonw.AppendKey(dst, key), s)
}

func appendInt(dst []byte, key string, n int64) []byte {
	return jsonw.AppendInt(jsonw.AppendKey(dst, key), n)
}

func appendBool(dst []byte, key string, b bool) []byte {
	return jsonw.AppendBool(jsonw.AppendKey(dst, key), b)
}

func appendBytes(dst []byte, key string, b []byte) []byte {
	dst = jsonw.AppendKey(dst, key)
	if b == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

// appendMetadata writes m with its keys sorted, as encoding/json does.
// Metadata holds at most a handful of keys, so the sort buffer stays on
// the stack.
func appendMetadata(dst []byte, m map[string]string) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	var arr [8]string
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonw.AppendString(dst, k)
		dst = append(dst, ':')
		dst = jsonw.AppendString(dst, m[k])
	}
	return append(dst, '}')
}
