package telemetry

import (
	"encoding/base64"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/store"
)

// This file is the one user-facing JSON form of a log record: the admin
// API's record (GET /admin/v1/logs and /logs/{id}) and what the file and
// webhook exporters write. The spool keeps a lossless form of its own
// (RecordJSON).

// AppendRecord appends r as one JSON object to dst and returns the extended
// buffer. Every member is always present, in a fixed order (consumers may
// read them positionally), except the payload members. Times are RFC 3339
// in UTC with a "Z" (AppendTime); money is micro-dollars as an integer
// (cost_micros, saved_micros) and, for cost, dollars as a string with 6
// decimals (cost_usd "0.000150", AppendUSD); latencies are milliseconds as
// numbers with 3 decimals (AppendMillis), and ttft_ms is null when the
// answer had no first byte. metadata values are decoded back from their
// JSON text form (42 the number, "42" the string), keys in sorted order; a
// stored value that is not one valid JSON value in valid UTF-8 is written
// as a string. guardrails and metadata are never null.
//
// With bodies set, a non-nil RequestBody or ResponseBody is added as
// base64 in request_body / response_body, and also as text in
// request_body_text / response_body_text when it is valid UTF-8; with
// bodies unset (the admin list) no payload member is written. AppendRecord
// only reads r and keeps no reference to it.
func AppendRecord(dst []byte, r *store.Record, bodies bool) []byte {
	dst = append(dst, '{')
	dst = viewStr(dst, "id", r.ID)
	dst = viewStr(dst, "client_request_id", r.ClientRequestID)
	dst = jsonw.AppendKey(dst, "time")
	dst = AppendTime(dst, r.Time)
	dst = viewStr(dst, "tenant_id", r.TenantID)
	dst = viewStr(dst, "team_id", r.TeamID)
	dst = viewStr(dst, "key_id", r.KeyID)
	dst = viewStr(dst, "client_ip", r.ClientIP)
	dst = viewStr(dst, "route", r.Route)
	dst = viewStr(dst, "model_requested", r.ModelRequested)
	dst = viewStr(dst, "provider", r.Provider)
	dst = viewStr(dst, "model", r.Model)
	dst = viewInt(dst, "attempts", int64(r.Attempts))
	dst = viewInt(dst, "status", int64(r.Status))
	dst = viewStr(dst, "error_code", r.ErrorCode)
	dst = viewStr(dst, "error_type", r.ErrorType)
	dst = viewBool(dst, "stream", r.Stream)
	dst = viewStr(dst, "cache_status", r.CacheStatus)
	dst = jsonw.AppendKey(dst, "guardrails")
	dst = append(dst, '[')
	for i, g := range r.Guardrails {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonw.AppendString(dst, g)
	}
	dst = append(dst, ']')
	dst = viewInt(dst, "prompt_tokens", int64(r.PromptTokens))
	dst = viewInt(dst, "completion_tokens", int64(r.CompletionTokens))
	dst = viewInt(dst, "cached_tokens", int64(r.CachedTokens))
	dst = viewInt(dst, "cache_write_tokens", int64(r.CacheWriteTokens))
	dst = viewInt(dst, "reasoning_tokens", int64(r.ReasoningTokens))
	dst = viewBool(dst, "estimated", r.Estimated)
	dst = viewInt(dst, "cost_micros", r.CostMicros)
	dst = jsonw.AppendKey(dst, "cost_usd")
	dst = AppendUSD(dst, r.CostMicros)
	dst = viewInt(dst, "saved_micros", r.SavedMicros)
	dst = viewBool(dst, "price_known", r.PriceKnown)
	dst = jsonw.AppendKey(dst, "latency_ms")
	dst = AppendMillis(dst, r.LatencyMicros)
	dst = jsonw.AppendKey(dst, "ttft_ms")
	if r.TTFTMicros == 0 {
		dst = append(dst, "null"...)
	} else {
		dst = AppendMillis(dst, r.TTFTMicros)
	}
	dst = jsonw.AppendKey(dst, "metadata")
	dst = viewMetadata(dst, r.Metadata)
	dst = viewBool(dst, "payload_truncated", r.PayloadTruncated)
	dst = viewStr(dst, "user_agent", r.UserAgent)
	dst = viewStr(dst, "mirror_of", r.MirrorOf)
	dst = viewStr(dst, "node", r.Node)
	if bodies {
		dst = viewBody(dst, "request_body", "request_body_text", r.RequestBody)
		dst = viewBody(dst, "response_body", "response_body_text", r.ResponseBody)
	}
	return append(dst, '}')
}

// AppendTime appends t as a quoted RFC 3339 time in UTC with "Z", with as
// many fractional digits as it has (none for whole seconds). It is the
// record's time format, shared with the admin usage report.
func AppendTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}

// AppendUSD appends micro-dollars as a quoted decimal number of dollars
// with exactly 6 places (150 → "0.000150"), computed in integers so no
// rounding creeps in. It is the record's money format, shared with the
// admin usage report.
func AppendUSD(dst []byte, micros int64) []byte {
	dst = append(dst, '"')
	dst = viewFixed(dst, micros, 1_000_000, 6)
	return append(dst, '"')
}

// AppendMillis appends microseconds as a JSON number of milliseconds with
// exactly 3 decimals (1234 → 1.234). It is the record's duration format,
// shared with the admin usage report.
func AppendMillis(dst []byte, micros int64) []byte {
	return viewFixed(dst, micros, 1_000, 3)
}

func viewStr(dst []byte, key, v string) []byte {
	return jsonw.AppendString(jsonw.AppendKey(dst, key), v)
}

func viewInt(dst []byte, key string, v int64) []byte {
	return jsonw.AppendInt(jsonw.AppendKey(dst, key), v)
}

func viewBool(dst []byte, key string, v bool) []byte {
	return jsonw.AppendBool(jsonw.AppendKey(dst, key), v)
}

// viewFixed appends n/scale with exactly places decimals, where scale is
// 10^places, in integer arithmetic.
func viewFixed(dst []byte, n, scale int64, places int) []byte {
	if n < 0 {
		dst = append(dst, '-')
		// Dividing before negating keeps MinInt64 from overflowing.
		whole, frac := -(n / scale), -(n % scale)
		return viewWholeFrac(dst, uint64(whole), uint64(frac), places)
	}
	return viewWholeFrac(dst, uint64(n/scale), uint64(n%scale), places)
}

func viewWholeFrac(dst []byte, whole, frac uint64, places int) []byte {
	dst = jsonw.AppendInt(dst, int64(whole))
	dst = append(dst, '.')
	var buf [20]byte
	for i := places - 1; i >= 0; i-- {
		buf[i] = byte('0' + frac%10)
		frac /= 10
	}
	return append(dst, buf[:places]...)
}

// viewMetadata appends metadata as an object, keys sorted. Each value is
// its stored JSON text when that is one valid JSON value in valid UTF-8,
// and otherwise (a store holding something else) that text as a string.
// Metadata holds at most a handful of keys, so the sort buffer usually
// stays on the stack.
func viewMetadata(dst []byte, md map[string]string) []byte {
	dst = append(dst, '{')
	var arr [8]string
	keys := arr[:0]
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

// viewBody appends a payload as base64 under key and, when it is valid
// UTF-8, as text under textKey; a nil body writes nothing.
func viewBody(dst []byte, key, textKey string, body []byte) []byte {
	if body == nil {
		return dst
	}
	dst = jsonw.AppendKey(dst, key)
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, body)
	dst = append(dst, '"')
	if utf8.Valid(body) {
		dst = jsonw.AppendKey(dst, textKey)
		dst = jsonw.AppendString(dst, string(body))
	}
	return dst
}
