package telemetry

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/store"
)

// decodeView parses one JSON value into generic values, numbers kept as
// json.Number so "1.500" and 1.5 differ, refusing trailing data.
func decodeView(t testing.TB, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	if err == nil {
		if _, terr := d.Token(); !errors.Is(terr, io.EOF) {
			err = errors.New("trailing data after the JSON value")
		}
	}
	if err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, b)
	}
	return v
}

func TestAppendRecord(t *testing.T) {
	base := store.Record{
		ID: "req_1", ClientRequestID: "envoy-7", Time: time.Date(2026, 3, 1, 11, 30, 0, 250_000_000, time.FixedZone("X", 3600)),
		TenantID: "t1", TeamID: "tm1", KeyID: "k1", ClientIP: "10.0.0.1", Route: "/v1/chat/completions",
		ModelRequested: "chat-default", Provider: "oai", Model: "gpt-4o-mini", Attempts: 2,
		Status: 200, Stream: true, CacheStatus: "miss", Guardrails: []string{"pii:redact"},
		PromptTokens: 100, CompletionTokens: 20, CachedTokens: 10, CacheWriteTokens: 5, ReasoningTokens: 3,
		Estimated: true, CostMicros: 150, SavedMicros: 7, PriceKnown: true,
		LatencyMicros: 1_234_567, TTFTMicros: 89_001,
		Metadata:  map[string]string{"team": `"a"`, "n": `42`, "ok": `true`, "bad": `not json`},
		UserAgent: "curl/8",
	}
	tests := []struct {
		name   string
		rec    store.Record
		bodies bool
		want   string
	}{
		{name: "full record without bodies", rec: base, want: `{"id":"req_1","client_request_id":"envoy-7","time":"2026-03-01T10:30:00.25Z",
			"tenant_id":"t1","team_id":"tm1","key_id":"k1","client_ip":"10.0.0.1","route":"/v1/chat/completions",
			"model_requested":"chat-default","provider":"oai","model":"gpt-4o-mini","attempts":2,"status":200,
			"error_code":"","error_type":"","stream":true,"cache_status":"miss","guardrails":["pii:redact"],
			"prompt_tokens":100,"completion_tokens":20,"cached_tokens":10,"cache_write_tokens":5,"reasoning_tokens":3,
			"estimated":true,"cost_micros":150,"cost_usd":"0.000150","saved_micros":7,"price_known":true,
			"latency_ms":1234.567,"ttft_ms":89.001,"metadata":{"bad":"not json","n":42,"ok":true,"team":"a"},
			"payload_truncated":false,"user_agent":"curl/8","mirror_of":"","node":""}`},
		{name: "zero record has empty collections and null ttft", rec: store.Record{ID: "z", Time: time.Unix(0, 0)},
			want: `{"id":"z","client_request_id":"","time":"1970-01-01T00:00:00Z","tenant_id":"","team_id":"","key_id":"","client_ip":"",
			"route":"","model_requested":"","provider":"","model":"","attempts":0,"status":0,"error_code":"",
			"error_type":"","stream":false,"cache_status":"","guardrails":[],"prompt_tokens":0,"completion_tokens":0,
			"cached_tokens":0,"cache_write_tokens":0,"reasoning_tokens":0,"estimated":false,"cost_micros":0,
			"cost_usd":"0.000000","saved_micros":0,"price_known":false,"latency_ms":0.000,"ttft_ms":null,
			"metadata":{},"payload_truncated":false,"user_agent":"","mirror_of":"","node":""}`},
		{name: "bodies: text and binary", bodies: true,
			rec: store.Record{ID: "b", Time: time.Unix(1, 0), RequestBody: []byte(`{"q":"hé"}`),
				ResponseBody: []byte{0xff, 0x00}, PayloadTruncated: true, CostMicros: 12_345_678},
			want: `{"id":"b","client_request_id":"","time":"1970-01-01T00:00:01Z","tenant_id":"","team_id":"","key_id":"","client_ip":"",
			"route":"","model_requested":"","provider":"","model":"","attempts":0,"status":0,"error_code":"",
			"error_type":"","stream":false,"cache_status":"","guardrails":[],"prompt_tokens":0,"completion_tokens":0,
			"cached_tokens":0,"cache_write_tokens":0,"reasoning_tokens":0,"estimated":false,"cost_micros":12345678,
			"cost_usd":"12.345678","saved_micros":0,"price_known":false,"latency_ms":0.000,"ttft_ms":null,
			"metadata":{},"payload_truncated":true,"user_agent":"","mirror_of":"","node":"",
			"request_body":"eyJxIjoiaMOpIn0=","request_body_text":"{\"q\":\"hé\"}","response_body":"/wA="}`},
		{name: "bodies requested but none logged", bodies: true, rec: store.Record{ID: "n", Time: time.Unix(1, 0), Guardrails: []string{"a", "b"}},
			want: `{"id":"n","client_request_id":"","time":"1970-01-01T00:00:01Z","tenant_id":"","team_id":"","key_id":"","client_ip":"",
			"route":"","model_requested":"","provider":"","model":"","attempts":0,"status":0,"error_code":"",
			"error_type":"","stream":false,"cache_status":"","guardrails":["a","b"],"prompt_tokens":0,"completion_tokens":0,
			"cached_tokens":0,"cache_write_tokens":0,"reasoning_tokens":0,"estimated":false,"cost_micros":0,
			"cost_usd":"0.000000","saved_micros":0,"price_known":false,"latency_ms":0.000,"ttft_ms":null,
			"metadata":{},"payload_truncated":false,"user_agent":"","mirror_of":"","node":""}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := AppendRecord(nil, &tc.rec, tc.bodies)
			if diff := cmp.Diff(decodeView(t, got), decodeView(t, []byte(tc.want))); diff != "" {
				t.Errorf("record JSON (-got +want):\n%s\ngot: %s", diff, got)
			}
		})
	}
}

func TestAppendRecordKeepsFieldOrder(t *testing.T) {
	// Export consumers may read the fields positionally (CSV-like tools);
	// the order is part of the format.
	got := AppendRecord([]byte("prefix:"), &store.Record{ID: "x", Time: time.Unix(0, 0), RequestBody: []byte("q")}, true)
	got, ok := bytes.CutPrefix(got, []byte("prefix:"))
	if !ok {
		t.Fatalf("dst was not appended to: %s", got)
	}
	dec := json.NewDecoder(bytes.NewReader(got))
	var keys []string
	dec.Token() // {
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"id", "client_request_id", "time", "tenant_id", "team_id", "key_id", "client_ip", "route", "model_requested",
		"provider", "model", "attempts", "status", "error_code", "error_type", "stream", "cache_status", "guardrails",
		"prompt_tokens", "completion_tokens", "cached_tokens", "cache_write_tokens", "reasoning_tokens", "estimated",
		"cost_micros", "cost_usd", "saved_micros", "price_known", "latency_ms", "ttft_ms", "metadata",
		"payload_truncated", "user_agent", "mirror_of", "node", "request_body", "request_body_text"}
	if diff := cmp.Diff(keys, want); diff != "" {
		t.Errorf("keys (-got +want):\n%s", diff)
	}
}

func TestViewFixed(t *testing.T) {
	tests := []struct {
		name   string
		n      int64
		scale  int64
		places int
		want   string
	}{
		{name: "zero usd", n: 0, scale: 1e6, places: 6, want: "0.000000"},
		{name: "micro", n: 150, scale: 1e6, places: 6, want: "0.000150"},
		{name: "dollars", n: 3_000_001, scale: 1e6, places: 6, want: "3.000001"},
		{name: "negative refund", n: -500_000, scale: 1e6, places: 6, want: "-0.500000"},
		{name: "min int64", n: math.MinInt64, scale: 1e6, places: 6, want: "-9223372036854.775808"},
		{name: "max int64", n: math.MaxInt64, scale: 1e3, places: 3, want: "9223372036854775.807"},
		{name: "ms", n: 1_234, scale: 1e3, places: 3, want: "1.234"},
		{name: "sub ms", n: 7, scale: 1e3, places: 3, want: "0.007"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(viewFixed(nil, tc.n, tc.scale, tc.places)); got != tc.want {
				t.Errorf("viewFixed(%d) = %s, want %s", tc.n, got, tc.want)
			}
		})
	}
}

// FuzzAppendRecord checks that any record, whatever its strings, metadata
// text and payloads hold, is written as valid JSON that reads back.
func FuzzAppendRecord(f *testing.F) {
	f.Add("req_1", "pii:redact", "team", `"a"`, []byte(`{"q":"hé"}`), int64(150), int64(1234))
	f.Add("\xff", "\u2028", "\x00", "{\n}", []byte{0xff}, int64(-1), int64(0))
	f.Add("", "", "k", "not json", []byte(nil), int64(0), int64(-7))
	f.Fuzz(func(t *testing.T, id, guard, mdKey, mdVal string, body []byte, cost, latency int64) {
		rec := store.Record{ID: id, Time: time.Unix(cost%1e10, 0), Guardrails: []string{guard},
			Metadata: map[string]string{mdKey: mdVal}, RequestBody: body, CostMicros: cost,
			LatencyMicros: latency, TTFTMicros: latency}
		got := AppendRecord(nil, &rec, true)
		if !json.Valid(got) || !utf8.Valid(got) {
			t.Fatalf("invalid JSON: %q", got)
		}
		var v struct {
			ID          string         `json:"id"`
			RequestBody []byte         `json:"request_body"`
			Metadata    map[string]any `json:"metadata"`
			CostUSD     string         `json:"cost_usd"`
			Latency     json.Number    `json:"latency_ms"`
		}
		if err := json.Unmarshal(got, &v); err != nil {
			t.Fatal(err)
		}
		if body != nil && !bytes.Equal(v.RequestBody, body) {
			t.Errorf("request_body %s does not decode to the body", base64.StdEncoding.EncodeToString(v.RequestBody))
		}
		if utf8.ValidString(id) && v.ID != id {
			t.Errorf("id %q read back as %q", id, v.ID)
		}
		if len(v.Metadata) != 1 {
			t.Errorf("metadata %v: want one key", v.Metadata)
		}
		if _, err := v.Latency.Float64(); err != nil {
			t.Errorf("latency_ms %q: %v", v.Latency, err)
		}
	})
}

// BenchmarkAppendRecord covers both uses: a page of the admin list (no
// bodies) and an export line (bodies included), for a typical record.
func BenchmarkAppendRecord(b *testing.B) {
	rec := testRecord("tenant", 1)
	for _, bc := range []struct {
		name   string
		bodies bool
	}{{"list", false}, {"export", true}} {
		b.Run(bc.name, func(b *testing.B) {
			buf := make([]byte, 0, 4096)
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendRecord(buf[:0], &rec, bc.bodies)
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}
