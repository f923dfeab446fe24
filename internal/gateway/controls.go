package gateway

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/usage"
)

// Request-control headers a client may send (all optional).
const (
	// headerMetadata is a JSON object of up to maxMetadataKeys string,
	// number or bool values, kept in the request's log record.
	headerMetadata = "X-Sluice-Metadata"
	// headerLogPayload ("true" or "false") switches body logging for the
	// request, over the config.
	headerLogPayload = "X-Sluice-Log-Payload"
	// headerCustomCost prices the request itself, over the catalog.
	headerCustomCost = "X-Sluice-Custom-Cost"
)

const (
	maxMetadataKeys     = 8
	maxMetadataBytes    = 2048
	maxMetadataKeyBytes = 64
)

// parseMetadata reads x-sluice-metadata. Each value is kept as its compact
// JSON text ("abc" with quotes, 42, true), the form log filters compare.
// An absent header gives nil.
func parseMetadata(h http.Header) (map[string]string, error) {
	v := headerValue(h, headerMetadata)
	if v == "" {
		return nil, nil
	}
	if len(v) > maxMetadataBytes {
		return nil, badControl(headerMetadata, fmt.Sprintf("must be at most %d bytes", maxMetadataBytes))
	}
	dec := json.NewDecoder(strings.NewReader(v))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, badControl(headerMetadata, "must be a JSON object")
	}
	md := make(map[string]string, 4)
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, badControl(headerMetadata, "must be a JSON object")
		}
		key := t.(string) // object keys are strings once Token succeeded
		if key == "" || len(key) > maxMetadataKeyBytes {
			return nil, badControl(headerMetadata, fmt.Sprintf("keys must be 1 to %d bytes", maxMetadataKeyBytes))
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, badControl(headerMetadata, "must be a JSON object")
		}
		switch raw[0] {
		case '{', '[':
			return nil, badControl(headerMetadata, fmt.Sprintf("value of %q must be a string, number or boolean, not nested", key))
		case 'n':
			return nil, badControl(headerMetadata, fmt.Sprintf("value of %q must be a string, number or boolean, not null", key))
		}
		if _, dup := md[key]; dup {
			return nil, badControl(headerMetadata, fmt.Sprintf("key %q appears twice", key))
		}
		if len(md) == maxMetadataKeys {
			return nil, badControl(headerMetadata, fmt.Sprintf("must have at most %d keys", maxMetadataKeys))
		}
		md[key] = metadataText(raw)
	}
	if _, err := dec.Token(); err != nil {
		return nil, badControl(headerMetadata, "must be a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, badControl(headerMetadata, "must be one JSON object")
	}
	return md, nil
}

// metadataText is the one text form of a metadata value that filters
// compare: strings re-encoded (so "caf\u00e9" and "café" are the same
// value), numbers and booleans as written.
func metadataText(raw json.RawMessage) string {
	if raw[0] == '"' {
		var s string
		json.Unmarshal(raw, &s) //nolint:errcheck // Decode already accepted it
		return string(jsonw.AppendString(nil, s))
	}
	return string(raw)
}

// headerValue is h.Get(key) for a key in canonical form, without
// canonicalising it again on every request (TestControlHeadersCanonical
// checks the keys).
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// parseBoolHeader reads a "true"/"false" control; absent gives (false, false).
func parseBoolHeader(h http.Header, name string) (value, set bool, err error) {
	switch v := h.Get(name); strings.ToLower(v) {
	case "":
		return false, false, nil
	case "true", "1":
		return true, true, nil
	case "false", "0":
		return false, true, nil
	default:
		return false, false, badControl(name, "must be true or false")
	}
}

// badControl is the 400 for a malformed x-sluice-* header.
func badControl(header, msg string) *llm.Error {
	return &llm.Error{Status: http.StatusBadRequest, Type: llm.TypeInvalidRequest, Code: "invalid_header",
		Param: strings.ToLower(header), Fault: llm.FaultCaller, Message: strings.ToLower(header) + ": " + msg}
}

// readControls reads the request-control headers into the request's info
// and, when payload logging applies, keeps a capped copy of body (which
// the caller's buffer will be reused after).
func (g *Gateway) readControls(r *http.Request, body []byte) error {
	ri := infoFrom(r.Context())
	md, err := parseMetadata(r.Header)
	if err != nil {
		return err
	}
	ri.metadata = md
	if v := headerValue(r.Header, headerCustomCost); v != "" {
		p, err := usage.ParseCustomCost(v)
		if err != nil {
			e := badControl(headerCustomCost, "")
			e.Message = err.Error() // names the header already
			return e
		}
		ri.price = &p
	}
	on, set, err := parseBoolHeader(r.Header, headerLogPayload)
	if err != nil {
		return err
	}
	if !set {
		on = g.payloads.Enabled || slices.Contains(g.payloads.Routes, r.URL.Path)
	}
	ri.logPayload, ri.payloadMax = on, g.payloads.MaxBytes
	if on && body != nil {
		ri.reqBody = ri.capped(nil, body)
	}
	return nil
}

// capped appends b to dst up to the payload cap, noting truncation.
func (ri *requestInfo) capped(dst, b []byte) []byte {
	room := ri.payloadMax - len(dst)
	if room <= 0 {
		ri.truncated = ri.truncated || len(b) > 0
		return dst
	}
	if len(b) > room {
		b = b[:room]
		ri.truncated = true
	}
	return append(dst, b...)
}

// captureResponse keeps (a capped copy of) response bytes when payload
// logging is on.
func (ri *requestInfo) captureResponse(b []byte) {
	if ri.logPayload {
		if len(ri.payloadRedactors) > 0 {
			b = []byte(ri.hidePayload(string(b)))
		}
		ri.respBody = ri.capped(ri.respBody, b)
	}
}

// hidePayload replaces in a logged body every value a guardrail found in
// the request (see guardRun.redactPayload).
func (ri *requestInfo) hidePayload(text string) string {
	for _, red := range ri.payloadRedactors {
		text = red.Reapply(text)
	}
	return text
}
