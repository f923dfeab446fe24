package anthropic

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// jsonValue parses b as JSON, failing the test if it is not valid.
func jsonValue(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, b)
	}
	if d.More() {
		t.Fatalf("trailing data after JSON value:\n%s", b)
	}
	return v
}

// prune drops nulls, empty strings and empty arrays and objects, so golden
// files of canonical structs show only what is set.
func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			e = prune(e)
			if e == nil {
				delete(x, k)
			} else {
				x[k] = e
			}
		}
		if len(x) == 0 {
			return nil
		}
	case []any:
		for i := range x {
			if x[i] = prune(x[i]); x[i] == nil {
				x[i] = map[string]any{}
			}
		}
		if len(x) == 0 {
			return nil
		}
	case string:
		if x == "" {
			return nil
		}
	}
	return v
}

// canonicalJSON returns v (a canonical value) as pruned JSON for golden files.
func canonicalJSON(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return prune(jsonValue(t, b))
}

// golden compares got (a parsed JSON value) with the JSON in file, or
// rewrites the file with -update.
func golden(t *testing.T, file string, got any) {
	t.Helper()
	path := filepath.Join("testdata", file)
	if *update {
		b, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(jsonValue(t, b), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", file, diff)
	}
}

// readFile returns a file under testdata.
func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// copyChunk returns a deep copy of c, which a decoder may reuse.
func copyChunk(c *llm.Chunk) llm.Chunk {
	out := *c
	out.Deltas = nil
	for _, d := range c.Deltas {
		d.ToolCalls = append([]llm.ToolCallDelta(nil), d.ToolCalls...)
		d.Raw = bytes.Clone(d.Raw)
		d.Citation = bytes.Clone(d.Citation)
		out.Deltas = append(out.Deltas, d)
	}
	if c.Usage != nil {
		u := *c.Usage
		out.Usage = &u
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// jsonEqual makes cmp compare raw JSON by value, not by bytes.
var jsonEqual = cmp.Transformer("json", func(r json.RawMessage) any {
	var v any
	if json.Unmarshal(r, &v) != nil {
		return string(r)
	}
	return v
})

// llmError returns err as an *llm.Error, failing the test otherwise.
func llmError(t testing.TB, err error) *llm.Error {
	t.Helper()
	e, ok := err.(*llm.Error)
	if !ok {
		t.Fatalf("error %v (%T) is not an *llm.Error", err, err)
	}
	return e
}

func cmpDiff(want, got any) string { return cmp.Diff(want, got, jsonEqual) }
