package admin

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/store"
)

func sqliteStore(t *testing.T) *store.DB {
	t.Helper()
	return openStore(t, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "s.db")})
}

func TestNewRequiresLogs(t *testing.T) {
	if h, err := New(Options{AdminKey: testKey}); err == nil || h != nil {
		t.Errorf("New without Logs = %v, %v; want an error", h, err)
	}
}

func TestAuth(t *testing.T) {
	const wrong = "sk-wrong-SECRET-presented-token"
	tests := []struct {
		name        string
		adminKey    string
		header      string // Authorization; "" sends none
		wantStatus  int
		wantMessage string // a part of the error message
	}{
		{name: "no header", adminKey: testKey, wantStatus: 401, wantMessage: "missing admin token"},
		{name: "basic scheme", adminKey: testKey, header: "Basic " + testKey, wantStatus: 401, wantMessage: "missing admin token"},
		{name: "empty bearer", adminKey: testKey, header: "Bearer ", wantStatus: 401, wantMessage: "missing admin token"},
		{name: "wrong token", adminKey: testKey, header: "Bearer " + wrong, wantStatus: 401, wantMessage: "invalid admin token"},
		{name: "prefix of the key", adminKey: testKey, header: "Bearer " + testKey[:10], wantStatus: 401, wantMessage: "invalid admin token"},
		{name: "key plus suffix", adminKey: testKey, header: "Bearer " + testKey + "x", wantStatus: 401, wantMessage: "invalid admin token"},
		{name: "right token", adminKey: testKey, header: "Bearer " + testKey, wantStatus: 200},
		{name: "scheme is case-insensitive", adminKey: testKey, header: "bearer " + testKey, wantStatus: 200},
		{name: "admin key unset", adminKey: "", header: "Bearer " + wrong, wantStatus: 401, wantMessage: "SLUICE_ADMIN_KEY is not set"},
		{name: "admin key unset, no header", adminKey: "", wantStatus: 401, wantMessage: "SLUICE_ADMIN_KEY is not set"},
	}
	db := sqliteStore(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base, logs := serve(t, db, Options{AdminKey: tc.adminKey})
			for _, path := range []string{"/admin/v1/logs", "/admin/v1/usage", "/admin/v1/nowhere"} {
				req, _ := http.NewRequest(http.MethodGet, base+path, nil)
				if tc.header != "" {
					req.Header.Set("Authorization", tc.header)
				}
				r := doReq(t, req)
				if tc.wantStatus == 200 {
					if path != "/admin/v1/nowhere" && r.status != 200 {
						t.Errorf("%s: got %d %s, want 200", path, r.status, r.body)
					}
					continue
				}
				e := decodeError(t, r)
				if r.status != tc.wantStatus || deref(e.Error.Code) != "invalid_api_key" ||
					e.Error.Type != "authentication_error" || !strings.Contains(e.Error.Message, tc.wantMessage) {
					t.Errorf("%s: got %d %s, want %d invalid_api_key saying %q", path, r.status, r.body, tc.wantStatus, tc.wantMessage)
				}
				if r.header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s: 401 without WWW-Authenticate", path)
				}
				if strings.Contains(string(r.body), "SECRET") || strings.Contains(string(r.body), testKey) {
					t.Errorf("%s: the error echoes a token: %s", path, r.body)
				}
			}
			if out := logs.String(); strings.Contains(out, "SECRET") || strings.Contains(out, testKey) {
				t.Errorf("a token reached the log:\n%s", out)
			}
			if tc.wantStatus == 401 && !strings.Contains(logs.String(), "admin: request refused") {
				t.Errorf("refusal not logged:\n%s", logs.String())
			}
		})
	}
}

func TestRouting(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantCode   string
		wantAllow  string
	}{
		{name: "unknown path", method: "GET", path: "/admin/v1/keys", wantStatus: 404, wantCode: "not_found"},
		{name: "logs with trailing slash", method: "GET", path: "/admin/v1/logs/", wantStatus: 404, wantCode: "not_found"},
		{name: "prefix itself", method: "GET", path: "/admin/v1/", wantStatus: 404, wantCode: "not_found"},
		{name: "post logs", method: "POST", path: "/admin/v1/logs", wantStatus: 405, wantCode: "method_not_allowed", wantAllow: "GET, HEAD"},
		{name: "delete a log", method: "DELETE", path: "/admin/v1/logs/r1", wantStatus: 405, wantCode: "method_not_allowed", wantAllow: "GET, HEAD"},
		{name: "put usage", method: "PUT", path: "/admin/v1/usage", wantStatus: 405, wantCode: "method_not_allowed", wantAllow: "GET, HEAD"},
		{name: "head logs", method: "HEAD", path: "/admin/v1/logs", wantStatus: 200},
	}
	base, _ := serve(t, sqliteStore(t), Options{AdminKey: testKey})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, tc.method, base, tc.path, testKey)
			if r.status != tc.wantStatus {
				t.Fatalf("got %d %s, want %d", r.status, r.body, tc.wantStatus)
			}
			if got := r.header.Get("Allow"); got != tc.wantAllow {
				t.Errorf("Allow %q, want %q", got, tc.wantAllow)
			}
			if tc.wantCode != "" {
				if e := decodeError(t, r); deref(e.Error.Code) != tc.wantCode {
					t.Errorf("code %q, want %q", deref(e.Error.Code), tc.wantCode)
				}
			}
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", got)
			}
		})
	}
}

func TestBadParamsNameTheParam(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		wantParam string
		wantCode  string
	}{
		{name: "bad from", path: "/admin/v1/logs?from=yesterday", wantParam: "from"},
		{name: "bad status", path: "/admin/v1/logs?status=4x", wantParam: "status"},
		{name: "bad limit", path: "/admin/v1/logs?limit=5000", wantParam: "limit"},
		{name: "unknown parameter", path: "/admin/v1/logs?modle=x", wantParam: "modle"},
		{name: "repeated parameter", path: "/admin/v1/logs?provider=a&provider=b", wantParam: "provider"},
		{name: "cursor the store did not issue", path: "/admin/v1/logs?cursor=%21%21not%2Bbase64", wantParam: "cursor", wantCode: "invalid_cursor"},
		{name: "bad bucket", path: "/admin/v1/usage?bucket=10s", wantParam: "bucket"},
		{name: "too many buckets", path: "/admin/v1/usage?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&bucket=1m", wantParam: "bucket"},
		{name: "bad group_by", path: "/admin/v1/usage?group_by=day", wantParam: "group_by"},
		{name: "range reversed", path: "/admin/v1/usage?from=2026-03-01T00:00:00Z&to=2026-02-01T00:00:00Z", wantParam: "from"},
		{name: "bad metadata key", path: "/admin/v1/usage?metadata.=1", wantParam: "metadata."},
	}
	eachBackend(t, func(t *testing.T, db *store.DB) {
		base, _ := serve(t, db, Options{AdminKey: testKey})
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := get(t, base, tc.path)
				e := decodeError(t, r)
				if r.status != 400 || e.Error.Type != "invalid_request_error" || deref(e.Error.Param) != tc.wantParam {
					t.Errorf("got %d %s, want 400 naming %q", r.status, r.body, tc.wantParam)
				}
				if deref(e.Error.Code) != tc.wantCode {
					t.Errorf("code %q, want %q", deref(e.Error.Code), tc.wantCode)
				}
			})
		}
	})
}

// TestStoreFailureIsA500 closes the store under the API: the client gets a
// generic 500, the cause goes to the log.
func TestStoreFailureIsA500(t *testing.T) {
	db := sqliteStore(t)
	base, logs := serve(t, db, Options{AdminKey: testKey})
	db.Close()
	for _, path := range []string{"/admin/v1/logs", "/admin/v1/logs/r1", "/admin/v1/usage"} {
		r := get(t, base, path)
		e := decodeError(t, r)
		if r.status != 500 || e.Error.Type != "api_error" || e.Error.Message != "internal error reading the request logs" {
			t.Errorf("%s: got %d %s, want a generic 500", path, r.status, r.body)
		}
		if strings.Contains(string(r.body), "closed") {
			t.Errorf("%s: the cause leaked to the client: %s", path, r.body)
		}
	}
	if out := logs.String(); strings.Count(out, "admin: request failed") != 3 || !strings.Contains(out, "closed") {
		t.Errorf("want three logged failures with their cause, got:\n%s", out)
	}
}
