package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// testKey is the upstream credential in every test; tests check it never
// appears where it must not.
const testKey = "AIzaSy-test-key-0123456789"

// newTestProvider starts an httptest upstream running h and returns a
// provider aimed at it.
func newTestProvider(t testing.TB, h http.HandlerFunc, mod ...func(*provider.Config)) *Provider {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	cfg := provider.Config{Name: "google", Type: "gemini", BaseURL: srv.URL, APIKey: testKey,
		Headers: map[string]string{"X-Team": "search"}, Client: srv.Client()}
	for _, m := range mod {
		m(&cfg)
	}
	p, err := newProvider(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// errView is what tests assert of an *llm.Error.
type errView struct {
	Status     int
	Type       string
	Code       string
	Param      string
	Provider   string
	Message    string
	RetryAfter string `json:",omitempty"`
}

func viewErr(t *testing.T, err error) errView {
	t.Helper()
	var e *llm.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *llm.Error", err, err)
	}
	v := errView{Status: e.Status, Type: e.Type, Code: e.Code, Param: e.Param, Provider: e.Provider, Message: e.Message}
	if e.RetryAfter > 0 {
		v.RetryAfter = e.RetryAfter.String()
	}
	return v
}

// readBody decodes a request body as generic JSON.
func readBody(t *testing.T, r *http.Request) map[string]any {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Error(err)
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Errorf("request body is not a JSON object: %v\n%s", err, b)
	}
	return m
}

// golden compares got, marshalled and pruned of zero values, with a golden
// file as parsed JSON; -update rewrites it.
func golden(t *testing.T, file string, got any) {
	t.Helper()
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var gotV any
	if err := json.Unmarshal(b, &gotV); err != nil {
		t.Fatal(err)
	}
	gotV = prune(gotV)
	path := filepath.Join("testdata", file)
	if *update {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(gotV); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
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

// prune drops null, false, 0, "" and empty objects from decoded JSON, so
// golden files stay readable and survive new fields in package llm.
func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e = prune(e); isZero(e) {
				delete(x, k)
			} else {
				x[k] = e
			}
		}
	case []any:
		for i := range x {
			x[i] = prune(x[i])
		}
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
