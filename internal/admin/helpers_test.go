package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"github.com/sluicehq/sluice/internal/testdb"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to create test schemas
	"github.com/sluicehq/sluice/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const testKey = "sk-admin-test-0123456789"

// testNow is the injected clock: usage's default range ends here.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// backend is a store the API tests run against.
type backend struct {
	name string
	open func(t *testing.T) *store.DB
}

// backends are SQLite, always, and PostgreSQL when SLUICE_TEST_POSTGRES is
// set (each test then gets a schema of its own in that shared database).
var backends = []backend{
	{name: "sqlite", open: func(t *testing.T) *store.DB {
		return openStore(t, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "s.db")})
	}},
	{name: "postgres", open: func(t *testing.T) *store.DB { return openStore(t, postgresConfig(t)) }},
}

// eachBackend runs fn as a subtest per backend.
func eachBackend(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b.open(t)) })
	}
}

func openStore(t *testing.T, cfg store.Config) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// postgresConfig returns a config for a fresh schema of the database named
// by SLUICE_TEST_POSTGRES, dropped when the test ends; it skips the test
// when the variable is unset.
func postgresConfig(t *testing.T) store.Config {
	t.Helper()
	return store.Config{Driver: store.DriverPostgres, DSN: testdb.PostgresDSN(t, "sluice_admin_test_")}
}

// lockedBuffer is a log sink the server may write from its goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serve starts the admin API over logs on 127.0.0.1:0 with the test key
// and clock (opts may override them), stopped when the test ends. It
// returns the base URL and the log output.
func serve(t *testing.T, logs store.Logs, opts Options) (string, *lockedBuffer) {
	t.Helper()
	logBuf := &lockedBuffer{}
	opts.Logs = logs
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewJSONHandler(logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	h, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle(Prefix+"/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL, logBuf
}

// response is what a test request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends method to base+path with the bearer token (none when empty).
func do(t *testing.T, method, base, path, token string) response {
	t.Helper()
	req, err := http.NewRequest(method, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return doReq(t, req)
}

// doReq sends req and reads the whole answer.
func doReq(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

// get is an authenticated GET.
func get(t *testing.T, base, path string) response {
	t.Helper()
	return do(t, http.MethodGet, base, path, testKey)
}

// apiError is the OpenAI error body.
type apiError struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

// decodeError parses an error response, failing unless it is one.
func decodeError(t *testing.T, r response) apiError {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type %q, want application/json", ct)
	}
	var e apiError
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Message == "" || e.Error.Type == "" {
		t.Fatalf("not an OpenAI error body (%v): %s", err, r.body)
	}
	return e
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// decodeJSON parses b into generic values, numbers kept as json.Number so
// "1.500" and 1.5 differ.
func decodeJSON(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	if err := unmarshalNumber(b, &v); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, b)
	}
	return v
}

var errTrailing = errors.New("trailing data after the JSON value")

// unmarshalNumber is json.Unmarshal keeping numbers as json.Number (so
// "1.500" and 1.5 differ) and refusing trailing data.
func unmarshalNumber(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return errTrailing
	}
	return nil
}

// goldenJSON compares got with the golden file at path as parsed JSON (key
// order and spacing do not matter). With -update it rewrites the file.
func goldenJSON(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		var buf bytes.Buffer
		if err := json.Indent(&buf, got, "", "  "); err != nil {
			t.Fatalf("indent %s: %v\n%s", path, err, got)
		}
		buf.WriteByte('\n')
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(decodeJSON(t, got), decodeJSON(t, want)); diff != "" {
		t.Errorf("%s (-got +want):\n%s", path, diff)
	}
}
