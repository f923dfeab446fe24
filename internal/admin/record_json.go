package admin

import (
	"encoding/base64"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/store"
)

// This file is the JSON form of a log record, shared by the admin API and
// the log exporter so that both speak the same field names. Every member
// is always present, in a fixed order, except the payload members (see
// AppendRecord).

// AppendRecord appends r as one JSON object to dst and returns the extended
// buffer. Times are RFC 3339 in UTC with a "Z"; money is micro-dollars as
// an integer (cost_micros, saved_micros) and, for cost, dollars as a string
// with 6 decimals (cost_usd "0.000150"); latencies are milliseconds as
// numbers with 3 decimals, and ttft_ms is null when the answer had no first
// byte. metadata values are decoded back from their JSON text form (42 the
// number, "42" the string), keys in sorted order. guardrails and metadata
// are never null.
//
// With bodies set, a non-nil RequestBody or ResponseBody is added as
// base64 in request_body / response_body, and also as text in
// request_body_text / response_body_text when it is valid UTF-8; with
// bodies unset (lists, exports) no payload member is written. AppendRecord
// only reads r.
func AppendRecord(dst []byte, r *store.Record, bodies bool) []byte {
	dst = append(dst, '{')
	dst = appendStr(dst, "id", r.ID)
	dst = appendStr(dst, "client_request_id", r.ClientRequestID)
	dst = jsonw.AppendKey(dst, "time")
	dst = appendTime(dst, r.Time)
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
	dst = append(dst, '[')
	for i, g := range r.Guardrails {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonw.AppendString(dst, g)
	}
	dst = append(dst, ']')
	dst = appendInt(dst, "prompt_tokens", int64(r.PromptTokens))
	dst = appendInt(dst, "completion_tokens", int64(r.CompletionTokens))
	dst = appendInt(dst, "cached_tokens", int64(r.CachedTokens))
	dst = appendInt(dst, "cache_write_tokens", int64(r.CacheWriteTokens))
	dst = appendInt(dst, "reasoning_tokens", int64(r.ReasoningTokens))
	dst = appendBool(dst, "estimated", r.Estimated)
	dst = appendInt(dst, "cost_micros", r.CostMicros)
	dst = jsonw.AppendKey(dst, "cost_usd")
	dst = appendUSD(dst, r.CostMicros)
	dst = appendInt(dst, "saved_micros", r.SavedMicros)
	dst = appendBool(dst, "price_known", r.PriceKnown)
	dst = jsonw.AppendKey(dst, "latency_ms")
	dst = appendMillis(dst, r.LatencyMicros)
	dst = jsonw.AppendKey(dst, "ttft_ms")
	if r.TTFTMicros == 0 {
		dst = append(dst, "null"...)
	} else {
		dst = appendMillis(dst, r.TTFTMicros)
	}
	dst = jsonw.AppendKey(dst, "metadata")
	dst = appendMetadata(dst, r.Metadata)
	dst = appendBool(dst, "payload_truncated", r.PayloadTruncated)
	dst = appendStr(dst, "user_agent", r.UserAgent)
	if bodies {
		dst = appendBody(dst, "request_body", r.RequestBody)
		dst = appendBody(dst, "response_body", r.ResponseBody)
	}
	return append(dst, '}')
}

func appendStr(dst []byte, key, v string) []byte {
	return jsonw.AppendString(jsonw.AppendKey(dst, key), v)
}

func appendInt(dst []byte, key string, v int64) []byte {
	return jsonw.AppendInt(jsonw.AppendKey(dst, key), v)
}

func appendBool(dst []byte, key string, v bool) []byte {
	return jsonw.AppendBool(jsonw.AppendKey(dst, key), v)
}

// appendTime appends t as a quoted RFC 3339 UTC time with "Z", with as many
// fractional digits as it has (none for whole seconds).
func appendTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}

// appendUSD appends micro-dollars as a quoted decimal with 6 places.
func appendUSD(dst []byte, micros int64) []byte {
	dst = append(dst, '"')
	dst = appendFixed(dst, micros, 1_000_000, 6)
	return append(dst, '"')
}

// appendMillis appends microseconds as a JSON number of milliseconds with
// 3 decimals (1234 → 1.234).
func appendMillis(dst []byte, micros int64) []byte {
	return appendFixed(dst, micros, 1_000, 3)
}

// appendFixed appends n/scale with exactly places decimals, where scale is
// 10^places, in integer arithmetic so no rounding can creep in.
func appendFixed(dst []byte, n, scale int64, places int) []byte {
	if n < 0 {
		dst = append(dst, '-')
		// Dividing before negating keeps MinInt64 from overflowing.
		whole, frac := -(n / scale), -(n % scale)
		return appendWholeFrac(dst, uint64(whole), uint64(frac), places)
	}
	return appendWholeFrac(dst, uint64(n/scale), uint64(n%scale), places)
}

func appendWholeFrac(dst []byte, whole, frac uint64, places int) []byte {
	dst = jsonw.AppendInt(dst, int64(whole))
	dst = append(dst, '.')
	var buf [20]byte
	for i := places - 1; i >= 0; i-- {
		buf[i] = byte('0' + frac%10)
		frac /= 10
	}
	return append(dst, buf[:places]...)
}

// appendMetadata appends metadata as an object, keys sorted. Each value is
// its stored JSON text when that is one valid JSON value in valid UTF-8,
// and otherwise (a store holding something else) that text as a string.
func appendMetadata(dst []byte, md map[string]string) []byte {
	dst = append(dst, '{')
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonw.AppendString(dst, k)
		dst = append(dst, ':')
		v := md[k]
		if !utf8.ValidString(v) {
			dst = jsonw.AppendString(dst, v)
			continue
		}
		out, err := jsonw.AppendCompact(dst, []byte(v))
		if err != nil {
			out = jsonw.AppendString(dst, v)
		}
		dst = out
	}
	return append(dst, '}')
}

// appendBody appends a payload as base64 and, when it is valid UTF-8, as
// text; a nil body writes nothing.
func appendBody(dst []byte, key string, body []byte) []byte {
	if body == nil {
		return dst
	}
	dst = jsonw.AppendKey(dst, key)
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, body)
	dst = append(dst, '"')
	if utf8.Valid(body) {
		dst = jsonw.AppendKey(dst, key+"_text")
		dst = jsonw.AppendString(dst, string(body))
	}
	return dst
}
