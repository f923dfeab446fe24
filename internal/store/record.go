package store

import (
	"context"
	"time"
)

// Record is one request's log record: who asked, what answered, what it
// cost and how long it took. It is written once and never updated. Zero
// values mean "not applicable" (no key system yet → empty KeyID; no
// stream → zero TTFT).
//
// Text is stored as valid UTF-8 without NUL (anything else becomes
// U+FFFD), and the short text fields have a byte limit: longer values are
// cut at a UTF-8 character boundary, so a client-controlled value can
// never make the database refuse the record. The limits are 256 bytes for
// ClientRequestID, TenantID, TeamID, KeyID, ClientIP, Route,
// ModelRequested, Provider, Model, ErrorCode, ErrorType, CacheStatus, Node
// and each Guardrails entry; 512 for UserAgent; 64 for a Metadata key and
// 1,024 for a Metadata value (see the Max* constants). ID is never cut:
// an ID InsertLogs cannot hold fails with ErrBadRecord.
type Record struct {
	// ID is the request id, also sent to the client as x-request-id.
	// Unique; inserting a record whose ID exists is a no-op (replays are
	// idempotent).
	ID string
	// ClientRequestID is the client's own X-Request-Id, if it sent one;
	// not unique (a client may reuse it, e.g. when it retries).
	ClientRequestID string
	Time            time.Time // when the request arrived (UTC, microsecond precision kept)

	TenantID string
	TeamID   string
	KeyID    string
	ClientIP string
	// Route is the path pattern served: "/v1/chat/completions",
	// "/v1/messages", "/v1/embeddings", or "/{provider}/{rest...}" for passthrough.
	Route string

	// ModelRequested is the model the client sent; Provider and Model are
	// the provider name and provider model that answered (or failed last).
	ModelRequested string
	Provider       string
	Model          string
	Attempts       int

	// Status is the HTTP status sent to the client, or what ended the
	// request when that came later: 499 when the client left, the
	// failure's status when a stream broke after its 200 went out.
	Status    int
	ErrorCode string // the OpenAI-style error code, empty on success
	ErrorType string // the OpenAI-style error type, empty on success
	Stream    bool
	// CacheStatus is "" (no cache in play), "hit", "semantic_hit",
	// "coalesced" (shared an identical concurrent request's upstream
	// call), "miss" or "bypass".
	CacheStatus string
	// Guardrails lists what guardrails did, e.g. "pii:redact", "injection:block".
	Guardrails []string

	PromptTokens     int // includes cached and cache-write tokens
	CompletionTokens int // includes reasoning tokens
	CachedTokens     int
	CacheWriteTokens int
	ReasoningTokens  int
	// Estimated is true when the provider reported no usage and the
	// tokens were counted by Sluice's tokenizer.
	Estimated bool

	// CostMicros is the cost in micro-dollars (1 USD = 1_000_000);
	// SavedMicros is what a cache hit saved. PriceKnown is false when the
	// pricing catalog had no price for the model (cost then 0).
	CostMicros  int64
	SavedMicros int64
	PriceKnown  bool

	LatencyMicros int64 // arrival to last byte sent
	TTFTMicros    int64 // arrival to first byte of the answer; 0 if none

	// Metadata is the client's x-sluice-metadata: up to 8 keys with
	// string, number or bool values, kept as their JSON text form
	// ("abc" for a string, 42, true) — the form filters compare. Keys
	// that become equal once cleaned and cut are stored once, with the
	// value of the key first in byte order.
	Metadata map[string]string

	// RequestBody and ResponseBody are set only when payload logging is
	// on, capped, after guardrail redaction. PayloadTruncated says a cap
	// was hit.
	RequestBody      []byte
	ResponseBody     []byte
	PayloadTruncated bool

	UserAgent string

	// MirrorOf is set on a shadow request's record (traffic mirroring):
	// the ID of the client request it copied. Empty for every record of
	// client traffic.
	MirrorOf string

	// Node names the replica that served the request (its
	// cluster.node_id, else its host name); empty in records stored
	// before replicas were named.
	Node string
}

// LogFilter selects records. Zero fields do not filter. Results come
// newest first (Time desc, ID desc). Text values are cleaned and cut like
// the Record fields they compare with, so a filter on a long value
// matches the records stored from it.
type LogFilter struct {
	From, To time.Time // From inclusive, To exclusive
	// ClientRequestID matches Record.ClientRequestID exactly (several
	// records may share one).
	ClientRequestID string
	Model           string // matches ModelRequested or Model
	Provider        string
	Status          int // exact status; see StatusClass
	StatusClass     int // 2, 4 or 5 → 2xx, 4xx, 5xx
	KeyID           string
	TenantID        string
	TeamID          string
	CacheStatus     string
	// Metadata keeps records whose metadata has every key with exactly
	// that JSON text value.
	Metadata map[string]string
	// MirrorOf keeps the shadow records of that client request.
	MirrorOf string
	// Mirrors is "" (every record), MirrorsOnly (shadow records only) or
	// MirrorsExclude (client traffic only).
	Mirrors string
	// Node keeps the records served by that replica (Record.Node).
	Node string
	// Limit caps the page (default 50, max 1000).
	Limit int
	// Cursor continues after the last record of a previous page (Page.Next).
	Cursor string
}

// LogFilter.Mirrors values.
const (
	MirrorsOnly    = "only"
	MirrorsExclude = "exclude"
)

// Page is one page of records. Next is empty on the last page.
type Page struct {
	Records []Record
	Next    string
}

// UsageQuery asks for totals and a time series over [From, To).
type UsageQuery struct {
	From, To time.Time
	// Bucket is the series step (minimum 1m; default: the range / 60,
	// rounded up to a whole minute).
	Bucket time.Duration
	// GroupBy is "", "model", "provider", "key", "tenant" or "team".
	GroupBy string
	// Filter narrows the records (its From/To/Limit/Cursor are ignored).
	Filter LogFilter
}

// Stats are aggregates over a set of records. The sums (tokens, cost,
// saved) saturate at the int64 limits instead of wrapping around.
type Stats struct {
	Requests         int64
	Errors           int64 // status >= 400
	PromptTokens     int64
	CompletionTokens int64
	CachedTokens     int64
	CostMicros       int64
	SavedMicros      int64
	CacheHits        int64 // hit, semantic_hit and coalesced
	// CacheHitRatio is CacheHits over records with a CacheStatus.
	CacheHitRatio float64
	// Latency and TTFT percentiles in microseconds (TTFT over records
	// that have one).
	LatencyP50, LatencyP95, LatencyP99 int64
	TTFTP50, TTFTP95, TTFTP99          int64
}

// UsageGroup is one group's totals and series.
type UsageGroup struct {
	Key    string // the group's value ("" when not grouped)
	Totals Stats
	Series []Bucket
}

// Bucket is one step of a series; buckets with no records are omitted.
type Bucket struct {
	Start time.Time
	Stats
}

// UsageReport answers a UsageQuery: overall totals and one entry per
// group, largest Requests first.
type UsageReport struct {
	From, To time.Time
	Bucket   time.Duration
	Totals   Stats
	Groups   []UsageGroup
}

// Logs is what the request-log pipeline and the admin API need from a
// store. *DB implements it for SQLite and PostgreSQL.
type Logs interface {
	// InsertLogs writes records in one transaction; records whose ID
	// already exists are skipped. When the database refuses the data of
	// some record (as opposed to being unreachable or failing), nothing
	// is written and the error wraps ErrBadRecord: the caller may retry
	// the records one by one to find the bad one.
	InsertLogs(ctx context.Context, recs []Record) error
	// QueryLogs returns a page of records matching f.
	QueryLogs(ctx context.Context, f LogFilter) (Page, error)
	// GetLog returns one record; ErrNotFound if there is none.
	GetLog(ctx context.Context, id string) (Record, error)
	// Usage aggregates records.
	Usage(ctx context.Context, q UsageQuery) (UsageReport, error)
	// PruneLogs deletes records older than before (if non-zero) and then
	// the oldest beyond keep records (if keep > 0); it returns how many
	// were deleted.
	PruneLogs(ctx context.Context, before time.Time, keep int) (int64, error)
}
