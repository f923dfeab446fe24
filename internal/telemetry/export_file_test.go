package telemetry

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/store"
)

// readJSONLines parses a JSON-lines file of records, failing on any line
// that is not one valid JSON object.
func readJSONLines(t testing.TB, path string) []store.Record {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Record
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if !json.Valid(sc.Bytes()) {
			t.Fatalf("not a JSON line: %s", sc.Bytes())
		}
		r, err := ParseRecordJSON(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Error("file does not end with a newline")
	}
	return out
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

	if diff := cmp.Diff(readJSONLines(t, path), want); diff != "" {
		t.Errorf("lines (-got +want):\n%s", diff)
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
