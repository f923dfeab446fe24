package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sluicehq/sluice/internal/llm"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// testNow is the fixed clock every test decodes with.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestMain(m *testing.M) {
	now = func() time.Time { return testNow }
	os.Exit(m.Run())
}

// golden compares got (marshalled to JSON) with the golden file, as parsed
// JSON so formatting does not matter; -update rewrites the file. Canonical
// values (anything but wire bytes) are pruned of zero fields first, so the
// files stay readable and survive new fields in package llm.
func golden(t *testing.T, file string, got any) {
	t.Helper()
	_, wire := got.([]byte)
	b, ok := got.([]byte)
	if !ok {
		var err error
		if b, err = json.Marshal(got); err != nil {
			t.Fatal(err)
		}
	}
	var gotV any
	if err := json.Unmarshal(b, &gotV); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, b)
	}
	if !wire {
		gotV = prune(gotV)
	}
	path := filepath.Join("testdata", file)
	if *update {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(gotV); err != nil {
			t.Fatal(err)
		}
		pretty := bytes.TrimRight(buf.Bytes(), "\n")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(pretty, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	var wantV any
	if err := json.Unmarshal(want, &wantV); err != nil {
		t.Fatalf("golden file %s is not JSON: %v", path, err)
	}
	if diff := cmp.Diff(wantV, gotV); diff != "" {
		t.Errorf("%s (-want +got):\n%s", file, diff)
	}
}

// errFields is the part of an *llm.Error a test asserts on.
type errFields struct {
	Status   int
	Type     string
	Code     string
	Param    string
	Provider string
	Fault    llm.Fault
}

func fieldsOf(t *testing.T, err error) errFields {
	t.Helper()
	var e *llm.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *llm.Error", err, err)
	}
	return errFields{e.Status, e.Type, e.Code, e.Param, e.Provider, e.Fault}
}

func ptr[T any](v T) *T { return &v }

// prune drops null, false, 0, "" and empty objects from decoded JSON.
func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			e = prune(e)
			if isZero(e) {
				delete(x, k)
			} else {
				x[k] = e
			}
		}
		return x
	case []any:
		for i := range x {
			x[i] = prune(x[i])
		}
		return x
	}
	return v
}

func isZero(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case float64:
		return x == 0
	case string:
		return x == ""
	case map[string]any:
		return len(x) == 0
	}
	return false
}
