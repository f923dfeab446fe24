package telemetry

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/store"
)

// jsonCases are records whose AppendRecordJSON text must equal
// encoding/json's for RecordJSON; they also seed the fuzzers.
var jsonCases = []struct {
	name string
	rec  store.Record
}{
	{"full", testRecord("tenant", 7)},
	{"zero but id", store.Record{ID: "r1"}},
	{"empty slices and maps", store.Record{ID: "r2", Guardrails: []string{}, Metadata: map[string]string{}, RequestBody: []byte{}, ResponseBody: []byte{}}},
	{"escapes", store.Record{
		ID:              "quote\" back\\ nl\n tab\t <html> & \u2028\u2029 \x01",
		ClientRequestID: "<client> \"id\" \u2028",
		UserAgent:       "emoji 🙂 and é",
		Metadata:        map[string]string{"z": `"s"`, "a": "42", "m": "true", "\x7f": "del"},
	}},
	{"invalid utf8", store.Record{ID: "bad\xff\xfeid", Guardrails: []string{"\xc3"}}},
	{"extremes", store.Record{
		ID: "ext", Time: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		CostMicros: -1 << 63, SavedMicros: 1<<63 - 1, Attempts: -5, Status: 499,
	}},
	{"time in another zone", store.Record{ID: "tz", Time: time.Date(2025, 1, 2, 3, 4, 5, 6000, time.FixedZone("X", 5*3600))}},
}

// encodingJSON is the reference: encoding/json without HTML escaping.
func encodingJSON(t testing.TB, r store.Record) []byte {
	r.Time = r.Time.UTC()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode((*RecordJSON)(&r)); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func TestAppendRecordJSONMatchesEncodingJSON(t *testing.T) {
	for _, tc := range jsonCases {
		t.Run(tc.name, func(t *testing.T) {
			got := AppendRecordJSON(nil, &tc.rec)
			if want := encodingJSON(t, tc.rec); !bytes.Equal(got, want) {
				t.Errorf("AppendRecordJSON =\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestAppendRecordJSONShape(t *testing.T) {
	r := store.Record{
		ID: "req-1", ClientRequestID: "envoy-7", Time: time.Date(2025, 1, 2, 3, 4, 5, 123456000, time.UTC), Status: 200,
		Guardrails: []string{"pii:redact"}, Metadata: map[string]string{"team": `"a"`},
		RequestBody: []byte("hi"), CostMicros: 42,
	}
	want := `{"id":"req-1","client_request_id":"envoy-7","time":"2025-01-02T03:04:05.123456Z","tenant_id":"","team_id":"","key_id":"",` +
		`"client_ip":"","route":"","model_requested":"","provider":"","model":"","attempts":0,"status":200,` +
		`"error_code":"","error_type":"","stream":false,"cache_status":"","guardrails":["pii:redact"],` +
		`"prompt_tokens":0,"completion_tokens":0,"cached_tokens":0,"cache_write_tokens":0,"reasoning_tokens":0,` +
		`"estimated":false,"cost_micros":42,"saved_micros":0,"price_known":false,"latency_micros":0,"ttft_micros":0,` +
		`"metadata":{"team":"\"a\""},"request_body":"aGk=","response_body":null,"payload_truncated":false,"user_agent":""}`
	if got := string(AppendRecordJSON([]byte("prefix:"), &r)); got != "prefix:"+want {
		t.Errorf("got\n%s\nwant\nprefix:%s", got, want)
	}
}

func TestParseRecordJSONRoundTrip(t *testing.T) {
	for _, tc := range jsonCases {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Contains(tc.name, "invalid utf8") {
				t.Skip("invalid UTF-8 reads back as U+FFFD, as with encoding/json")
			}
			got, err := ParseRecordJSON(AppendRecordJSON(nil, &tc.rec))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, tc.rec); diff != "" {
				t.Errorf("round trip (-got +want):\n%s", diff)
			}
		})
	}
}

func TestParseRecordJSONErrors(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ``},
		{"not an object", `[1,2]`},
		{"null", `null`},
		{"no id", `{"status":200}`},
		{"empty id", `{"id":""}`},
		{"wrong type", `{"id":"a","status":"200"}`},
		{"bad time", `{"id":"a","time":"yesterday"}`},
		{"bad base64", `{"id":"a","request_body":"!!"}`},
		{"torn", `{"id":"a","status":2`},
		{"trailing data", `{"id":"a"} {"id":"b"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if r, err := ParseRecordJSON([]byte(tc.in)); err == nil {
				t.Errorf("ParseRecordJSON(%q) = %+v, want an error", tc.in, r)
			}
		})
	}
}

// TestParseRecordJSONReadsSpoolLinesWithoutClientRequestID guards spool
// files written before client_request_id existed: they still replay, with
// the field empty.
func TestParseRecordJSONReadsSpoolLinesWithoutClientRequestID(t *testing.T) {
	got, err := ParseRecordJSON([]byte(`{"id":"old","time":"2025-01-02T03:04:05Z","status":200,"model":"m"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := store.Record{ID: "old", Time: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Status: 200, Model: "m"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("(-got +want):\n%s", diff)
	}
}

func TestParseRecordJSONIgnoresUnknownKeys(t *testing.T) {
	got, err := ParseRecordJSON([]byte(`{"id":"a","future_field":{"x":1},"status":201}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, store.Record{ID: "a", Status: 201}); diff != "" {
		t.Errorf("(-got +want):\n%s", diff)
	}
}

// FuzzParseRecordJSON holds the spool's line decoder to: no panics, and
// whatever it accepts writes back to text that encoding/json agrees with
// and that parses to the same record.
func FuzzParseRecordJSON(f *testing.F) {
	for _, tc := range jsonCases {
		f.Add(AppendRecordJSON(nil, &tc.rec))
	}
	f.Add([]byte(`{"id":"a","time":"2025-01-02T03:04:05Z","metadata":{"k":"v"},"guardrails":null}`))
	f.Add([]byte(`{"id":"a","status":2`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRecordJSON(b)
		if err != nil {
			return
		}
		if y := r.Time.UTC().Year(); y < 0 || y > 9999 {
			return // not representable; a request's time never is
		}
		text := AppendRecordJSON(nil, &r)
		if want := encodingJSON(t, r); !bytes.Equal(text, want) {
			t.Fatalf("AppendRecordJSON =\n%s\nencoding/json:\n%s", text, want)
		}
		again, err := ParseRecordJSON(text)
		if err != nil {
			t.Fatalf("re-parse %s: %v", text, err)
		}
		if !cmp.Equal(again, r) {
			t.Fatalf("round trip (-got +want):\n%s", cmp.Diff(again, r))
		}
	})
}

func BenchmarkAppendRecordJSON(b *testing.B) {
	r := testRecord("tenant", 1)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendRecordJSON(buf[:0], &r)
	}
	b.SetBytes(int64(len(buf)))
}
