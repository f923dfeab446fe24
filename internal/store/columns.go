package store

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// logColumns are request_logs' columns in the order recordArgs writes
// and scanRecord reads them.
var logColumns = []string{
	"id", "client_request_id", "time_us", "tenant_id", "team_id", "key_id", "client_ip", "route",
	"model_requested", "provider", "model", "attempts",
	"status", "error_code", "error_type", "stream", "cache_status", "guardrails",
	"prompt_tokens", "completion_tokens", "cached_tokens", "cache_write_tokens", "reasoning_tokens", "estimated",
	"cost_micros", "saved_micros", "price_known",
	"latency_us", "ttft_us",
	"request_body", "response_body", "payload_truncated",
	"user_agent", "mirror_of", "node",
}

// logColumnList is logColumns joined for SELECT and INSERT.
var logColumnList = strings.Join(logColumns, ", ")

// maxIDLen bounds Record.ID (and so cursors).
const maxIDLen = 1024

// checkID reports why id cannot be stored, or nil.
func checkID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("empty ID")
	case len(id) > maxIDLen:
		return fmt.Errorf("ID longer than %d bytes", maxIDLen)
	case !utf8.ValidString(id) || strings.IndexByte(id, 0) >= 0:
		return fmt.Errorf("ID %q is not valid UTF-8 text without NUL", id)
	}
	return nil
}

// appendRecordArgs appends r's column values, in logColumns order, to
// args. Text is made valid UTF-8 without NUL (PostgreSQL rejects
// anything else, and the same text must come back from both databases)
// and cut to its field's limit (see Record); an empty Guardrails or body
// is stored as NULL.
func appendRecordArgs(args []any, r *Record) []any {
	var guardrails any
	if len(r.Guardrails) > 0 {
		gs := make([]string, len(r.Guardrails))
		for i, g := range r.Guardrails {
			gs[i] = shortText(g)
		}
		b, _ := json.Marshal(gs) // a []string always marshals
		guardrails = string(b)
	}
	return append(args,
		r.ID, shortText(r.ClientRequestID), r.Time.UnixMicro(),
		shortText(r.TenantID), shortText(r.TeamID), shortText(r.KeyID),
		shortText(r.ClientIP), shortText(r.Route),
		shortText(r.ModelRequested), shortText(r.Provider), shortText(r.Model), int64(r.Attempts),
		int64(r.Status), shortText(r.ErrorCode), shortText(r.ErrorType), r.Stream, shortText(r.CacheStatus), guardrails,
		int64(r.PromptTokens), int64(r.CompletionTokens), int64(r.CachedTokens), int64(r.CacheWriteTokens),
		int64(r.ReasoningTokens), r.Estimated,
		r.CostMicros, r.SavedMicros, r.PriceKnown,
		r.LatencyMicros, r.TTFTMicros,
		nilIfEmpty(r.RequestBody), nilIfEmpty(r.ResponseBody), r.PayloadTruncated,
		cutText(r.UserAgent, MaxUserAgent), shortText(r.MirrorOf), shortText(r.Node),
	)
}

// scanRecord reads one row of logColumns. Metadata is left nil.
func scanRecord(row interface{ Scan(...any) error }) (Record, error) {
	var (
		r          Record
		timeUS     int64
		guardrails sql.NullString
	)
	err := row.Scan(
		&r.ID, &r.ClientRequestID, &timeUS, &r.TenantID, &r.TeamID, &r.KeyID, &r.ClientIP, &r.Route,
		&r.ModelRequested, &r.Provider, &r.Model, &r.Attempts,
		&r.Status, &r.ErrorCode, &r.ErrorType, &r.Stream, &r.CacheStatus, &guardrails,
		&r.PromptTokens, &r.CompletionTokens, &r.CachedTokens, &r.CacheWriteTokens, &r.ReasoningTokens, &r.Estimated,
		&r.CostMicros, &r.SavedMicros, &r.PriceKnown,
		&r.LatencyMicros, &r.TTFTMicros,
		&r.RequestBody, &r.ResponseBody, &r.PayloadTruncated,
		&r.UserAgent, &r.MirrorOf, &r.Node,
	)
	if err != nil {
		return Record{}, err
	}
	r.Time = time.UnixMicro(timeUS).UTC()
	if guardrails.Valid {
		if err := json.Unmarshal([]byte(guardrails.String), &r.Guardrails); err != nil {
			return Record{}, fmt.Errorf("record %q: guardrails: %w", r.ID, err)
		}
	}
	return r, nil
}

// cleanText returns s with invalid UTF-8 and NUL bytes replaced by U+FFFD.
// Valid text (the usual case) is returned as is, without allocating.
func cleanText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// nilIfEmpty returns an untyped nil (SQL NULL on both drivers) for an
// empty b.
func nilIfEmpty(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}
