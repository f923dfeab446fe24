package telemetry

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/store"
)

// readJSONLines parses a JSON-lines file of records, failing on any line
// that is not one JSON object or a file that does not end in a newline.
func readJSONLines(t testing.TB, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		v, ok := decodeView(t, sc.Bytes()).(map[string]any)
		if !ok {
			t.Fatalf("not a JSON object: %s", sc.Bytes())
		}
		out = append(out, v)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Error("file does not end with a newline")
	}
	return out
}

// recordViews are recs as an exporter writes them (AppendRecord with
// bodies), decoded as readJSONLines does: the want side of exporter tests.
func recordViews(t testing.TB, recs []store.Record) []map[string]any {
	t.Helper()
	out := make([]map[string]any, len(recs))
	for i := range recs {
		out[i] = decodeView(t, AppendRecord(nil, &recs[i], true)).(map[string]any)
	}
	return out
}

// viewsByID sorts decoded records by id.
func viewsByID(vs []map[string]any) []map[string]any {
	slices.SortFunc(vs, func(a, b map[string]any) int { return strings.Compare(a["id"].(string), b["id"].(string)) })
	return vs
}

// checkAdminShape fails unless v is r in the admin API's record form,
// checking the members that tell it from the spool's lossless form
// against values worked out here rather than by AppendRecord.
func checkAdminShape(t testing.TB, v map[string]any, r *store.Record) {
	t.Helper()
	want := map[string]any{
		"id":                r.ID,
		"time":              r.Time.UTC().Format(time.RFC3339Nano),
		"cost_micros":       json.Number(fmt.Sprint(r.CostMicros)),
		"cost_usd":          fmt.Sprintf("%d.%06d", r.CostMicros/1e6, r.CostMicros%1e6),
		"latency_ms":        json.Number(fmt.Sprintf("%d.%03d", r.LatencyMicros/1e3, r.LatencyMicros%1e3)),
		"ttft_ms":           json.Number(fmt.Sprintf("%d.%03d", r.TTFTMicros/1e3, r.TTFTMicros%1e3)),
		"request_body":      base64.StdEncoding.EncodeToString(r.RequestBody),
		"request_body_text": string(r.RequestBody),
		"response_body":     base64.StdEncoding.EncodeToString(r.ResponseBody),
	}
	got := map[string]any{}
	for k := range want {
		got[k] = v[k]
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("record %s (-got +want):\n%s", r.ID, diff)
	}
	// testRecord's metadata: "n" a number, "user" a string, both decoded.
	if md, _ := v["metadata"].(map[string]any); md["n"] != json.Number(r.Metadata["n"]) || md["user"] != strings.Trim(r.Metadata["user"], `"`) {
		t.Errorf("record %s: metadata %v, want the values decoded from %v", r.ID, v["metadata"], r.Metadata)
	}
	for _, k := range []string{"latency_micros", "ttft_micros", "response_body_text"} {
		if _, ok := v[k]; ok {
			t.Errorf("record %s has %s", r.ID, k)
		}
	}
}

func TestFileExporterAppendsJSONLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "export.jsonl")
	want := testRecords("file", 5)

	e, err := NewFileExporter(path)
	if err != nil {
		t.Fatal(err)
	}
	if e.Name() != "file:"+path {
		t.Errorf("Name = %q", e.Name())
	}
	ctx := context.Background()
	if err := e.Export(ctx, want[:2]); err != nil {
		t.Fatal(err)
	}
	if err := e.Export(ctx, want[2:4]); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Export(ctx, want[4:]); err == nil {
		t.Error("Export after Close succeeded")
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}

	// Reopening appends.
	e2, err := NewFileExporter(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := e2.Export(ctx, want[4:]); err != nil {
		t.Fatal(err)
	}
	e2.Close()

	got := readJSONLines(t, path)
	if diff := cmp.Diff(got, recordViews(t, want)); diff != "" {
		t.Errorf("lines (-got +want):\n%s", diff)
	}
	for i := range min(len(got), len(want)) {
		checkAdminShape(t, got[i], &want[i])
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("mode %v: readable by others", perm)
	}
}

func TestNewFileExporterErrors(t *testing.T) {
	tests := []struct{ name, path string }{
		{"empty path", ""},
		{"missing directory", filepath.Join(t.TempDir(), "no", "such", "dir", "x.jsonl")},
		{"a directory", t.TempDir()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if e, err := NewFileExporter(tc.path); err == nil {
				e.Close()
				t.Errorf("NewFileExporter(%q) succeeded", tc.path)
			}
		})
	}
}
