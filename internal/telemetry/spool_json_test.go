package telemetry

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/store"
)

// jsonCases are records the spool must keep whole; they also seed the
// fuzzer. testdata/spool-v1-cases.jsonl holds them, in this order, as the
// hand-written encoder of earlier versions wrote them: do not regenerate
// it, add new cases at the end and extend the file by hand if need be.
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

// spoolText is recs as spool lines. It panics on an encoding error, which
// only a Time outside years 0–9999 causes.
func spoolText(recs ...store.Record) string {
	var buf bytes.Buffer
	if err := writeSpoolLines(&buf, recs); err != nil {
		panic(err)
	}
	return buf.String()
}

// readLines returns the lines of a testdata file, without their ends.
func readLines(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func TestWriteSpoolLinesShape(t *testing.T) {
	r := store.Record{
		ID: "req-1", ClientRequestID: "envoy-7", Time: time.Date(2025, 1, 2, 3, 4, 5, 123456000, time.UTC), Status: 200,
		Guardrails: []string{"pii:redact"}, Metadata: map[string]string{"team": `"a"`},
		RequestBody: []byte("hi"), CostMicros: 42, UserAgent: "<&>",
	}
	want := `{"id":"req-1","client_request_id":"envoy-7","time":"2025-01-02T03:04:05.123456Z","tenant_id":"","team_id":"","key_id":"",` +
		`"client_ip":"","route":"","model_requested":"","provider":"","model":"","attempts":0,"status":200,` +
		`"error_code":"","error_type":"","stream":false,"cache_status":"","guardrails":["pii:redact"],` +
		`"prompt_tokens":0,"completion_tokens":0,"cached_tokens":0,"cache_write_tokens":0,"reasoning_tokens":0,` +
		`"estimated":false,"cost_micros":42,"saved_micros":0,"price_known":false,"latency_micros":0,"ttft_micros":0,` +
		`"metadata":{"team":"\"a\""},"request_body":"aGk=","response_body":null,"payload_truncated":false,"user_agent":"<&>"}` + "\n"
	if got := spoolText(r, r); got != want+want {
		t.Errorf("got\n%s\nwant\n%s", got, want+want)
	}
}

// TestWriteSpoolLinesWritesWhatEarlierVersionsWrote holds the encoding/json
// writer to the bytes of the hand-written one it replaced, so old and new
// spool files are alike.
func TestWriteSpoolLinesWritesWhatEarlierVersionsWrote(t *testing.T) {
	old := readLines(t, filepath.Join("testdata", "spool-v1-cases.jsonl"))
	if len(old) != len(jsonCases) {
		t.Fatalf("%d old lines for %d cases", len(old), len(jsonCases))
	}
	for i, tc := range jsonCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := strings.TrimSuffix(spoolText(tc.rec), "\n"); got != old[i] {
				t.Errorf("writeSpoolLines =\n%s\nearlier versions wrote\n%s", got, old[i])
			}
		})
	}
}

// TestParseRecordJSONReadsEarlierVersionsLines guards spool files left by
// an earlier version: every field comes back.
func TestParseRecordJSONReadsEarlierVersionsLines(t *testing.T) {
	old := readLines(t, filepath.Join("testdata", "spool-v1-cases.jsonl"))
	for i, tc := range jsonCases {
		if i >= len(old) {
			t.Fatalf("no old line for case %q", tc.name)
		}
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRecordJSON([]byte(old[i]))
			if err != nil {
				t.Fatal(err)
			}
			want := tc.rec
			if tc.name == "invalid utf8" { // written as U+FFFD, one per bad byte
				want.ID, want.Guardrails = "bad\ufffd\ufffdid", []string{"\ufffd"}
			}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("(-got +want):\n%s", diff)
			}
		})
	}
}

func TestParseRecordJSONRoundTrip(t *testing.T) {
	for _, tc := range jsonCases {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Contains(tc.name, "invalid utf8") {
				t.Skip("invalid UTF-8 reads back as U+FFFD, as with encoding/json")
			}
			got, err := ParseRecordJSON([]byte(strings.TrimSuffix(spoolText(tc.rec), "\n")))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, tc.rec); diff != "" {
				t.Errorf("round trip (-got +want):\n%s", diff)
			}
			if got.Time.Location() != time.UTC {
				t.Errorf("time %v read back outside UTC", got.Time)
			}
		})
	}
}

func TestWriteSpoolLinesRefusesAnUnwritableTime(t *testing.T) {
	var buf bytes.Buffer
	recs := []store.Record{{ID: "ok"}, {ID: "far", Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}
	if err := writeSpoolLines(&buf, recs); err == nil || !strings.HasPrefix(err.Error(), "telemetry: spool encode: ") {
		t.Fatalf("writeSpoolLines = %v, want a spool encode error", err)
	}
	dir := t.TempDir()
	s, err := newSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.append(kindWriter, recs, true); err == nil {
		t.Error("append succeeded")
	}
	s.close()
	if files := spoolFiles(t, dir); len(files) != 0 {
		t.Errorf("files %v written; want none (no partial batch)", files)
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

// TestSpoolReplaysEarlierVersionsFile puts a spool file an earlier version
// wrote (testdata/spool-v1-replay.jsonl: testRecords("v1", 3) by the
// hand-written encoder) in front of a pipeline: its records reach the
// store whole.
func TestSpoolReplaysEarlierVersionsFile(t *testing.T) {
	old, err := os.ReadFile(filepath.Join("testdata", "spool-v1-replay.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	db := openSQLite(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "spool-00000000000000000001-000001-w.jsonl"), old, 0o600); err != nil {
		t.Fatal(err)
	}
	p, _ := newTestPipeline(t, db, PipelineConfig{SpoolDir: dir})
	waitFor(t, "start-up replay", func() bool { return len(spoolFiles(t, dir)) == 0 })
	closePipeline(t, p)
	if diff := cmp.Diff(sortByID(storedRecords(t, db, "v1")), testRecords("v1", 3)); diff != "" {
		t.Errorf("stored records (-got +want):\n%s", diff)
	}
	if st := p.Stats(); st.Replayed != 3 || st.SpoolCorrupt != 0 {
		t.Errorf("stats = %+v, want 3 replayed and none corrupt", st)
	}
}

// FuzzParseRecordJSON holds the spool's line decoder to: no panics, and
// whatever it accepts writes back to one line that parses to the same
// record.
func FuzzParseRecordJSON(f *testing.F) {
	for _, tc := range jsonCases {
		f.Add([]byte(spoolText(tc.rec)))
	}
	f.Add([]byte(`{"id":"a","time":"2025-01-02T03:04:05Z","metadata":{"k":"v"},"guardrails":null}`))
	f.Add([]byte(`{"id":"a","status":2`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRecordJSON(b)
		if err != nil {
			return
		}
		if y := r.Time.UTC().Year(); y < 0 || y > 9999 {
			return // not writable; a request's time never is
		}
		var buf bytes.Buffer
		if err := writeSpoolLines(&buf, []store.Record{r}); err != nil {
			t.Fatalf("writeSpoolLines: %v", err)
		}
		line, ok := bytes.CutSuffix(buf.Bytes(), []byte("\n"))
		if !ok || bytes.ContainsAny(line, "\r\n") {
			t.Fatalf("not one line: %q", buf.Bytes())
		}
		again, err := ParseRecordJSON(line)
		if err != nil {
			t.Fatalf("re-parse %s: %v", line, err)
		}
		if !cmp.Equal(again, r) {
			t.Fatalf("round trip (-got +want):\n%s", cmp.Diff(again, r))
		}
	})
}

// BenchmarkWriteSpoolLines is for reference only: the spool is written
// when the store fails, off the request path.
func BenchmarkWriteSpoolLines(b *testing.B) {
	recs := testRecords("tenant", 16)
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := writeSpoolLines(&buf, recs); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}
