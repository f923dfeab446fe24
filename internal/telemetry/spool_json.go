package telemetry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sluicehq/sluice/internal/store"
)

// RecordJSON is the spool's lossless JSON form of a store.Record, one
// record a line. It has exactly store.Record's fields, so either converts
// to the other (RecordJSON(rec), store.Record(j)) and a field added to
// store.Record breaks the build here until it gets a name. Users see the
// admin API's form instead (AppendRecord); this one exists so a record
// read back from the spool is the record that was written.
//
// encoding/json writes every key, in field order, with times in RFC 3339
// with nanoseconds, guardrails and metadata null when nil, each metadata
// value as its JSON text inside a string, and the bodies as standard
// base64 (null when nil). The key names must not change: spool files
// outlive the process that wrote them.
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
	// MirrorOf is written only when set, so a client request's line is
	// what earlier versions wrote.
	MirrorOf string `json:"mirror_of,omitempty"`
	// Node is written only when set, like MirrorOf.
	Node string `json:"node,omitempty"`
}

// writeSpoolLines writes recs to buf as spool lines, one RecordJSON object
// and a newline each, with times in UTC and <, > and & unescaped (the
// bytes earlier versions wrote, so old and new lines look alike). It fails
// only for a Time outside years 0–9999, which encoding/json refuses and a
// request's arrival time never is; buf then holds a partial batch the
// caller must not write.
func writeSpoolLines(buf *bytes.Buffer, recs []store.Record) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	for i := range recs {
		j := RecordJSON(recs[i])
		j.Time = j.Time.UTC()
		if err := enc.Encode(&j); err != nil {
			return fmt.Errorf("telemetry: spool encode: %w", err)
		}
	}
	return nil
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
