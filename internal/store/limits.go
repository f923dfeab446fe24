package store

import "unicode/utf8"

// Byte limits of Record's text fields. InsertLogs cuts longer values (at
// a UTF-8 character boundary, after cleaning) and filters cut their
// values the same way. Every indexed column stays far below PostgreSQL's
// btree row limit (about 2,700 bytes) with room for the time and ID that
// end each index.
const (
	// MaxShortText bounds ClientRequestID, TenantID, TeamID, KeyID,
	// ClientIP, Route, ModelRequested, Provider, Model, ErrorCode,
	// ErrorType, CacheStatus and each Guardrails entry.
	MaxShortText = 256
	// MaxUserAgent bounds UserAgent.
	MaxUserAgent = 512
	// MaxMetadataKey bounds a Metadata key.
	MaxMetadataKey = 64
	// MaxMetadataValue bounds a Metadata value (its JSON text form).
	MaxMetadataValue = 1024
)

// cutText returns s cleaned (see cleanText) and cut to at most max bytes
// without splitting a UTF-8 character. Short valid text (the usual case)
// is returned as is, without allocating.
func cutText(s string, max int) string {
	s = cleanText(s)
	if len(s) <= max {
		return s
	}
	n := max
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// shortText is cutText with MaxShortText.
func shortText(s string) string { return cutText(s, MaxShortText) }
