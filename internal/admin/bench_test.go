package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/store"
)

func BenchmarkParseLogsQuery(b *testing.B) {
	q, err := url.ParseQuery("from=2026-03-01T09:00:00Z&to=1772366400&provider=oai&status=2xx&metadata.team=a&limit=100")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, perr := parseLogsQuery(q); perr != nil {
			b.Fatal(perr)
		}
	}
}

// BenchmarkListLogs serves one 50-record page from SQLite, end to end
// through the handler (no network).
func BenchmarkListLogs(b *testing.B) {
	db, err := store.Open(context.Background(), store.Config{Driver: store.DriverSQLite, DSN: b.TempDir() + "/s.db"})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tmpl := fixtureRecords()[1]
	recs := make([]store.Record, 200)
	for i := range recs {
		recs[i] = tmpl
		recs[i].ID = fmt.Sprintf("req_%04d", i)
		recs[i].Time = t0.Add(time.Duration(i) * time.Second)
	}
	if err := db.InsertLogs(context.Background(), recs); err != nil {
		b.Fatal(err)
	}
	h, err := New(Options{Logs: db, AdminKey: testKey})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/admin/v1/logs?limit=50&provider=oai", nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}

// BenchmarkAuthenticate checks a bootstrap token and a resolved key, the
// work every admin request does before routing.
func BenchmarkAuthenticate(b *testing.B) {
	p := auth.Principal{KeyID: "key_x", Role: auth.RoleAdmin}
	a := newAuthenticator(testKey, func(token string) (auth.Principal, bool) { return p, token == "sk-resolved" })
	for _, tc := range []struct{ name, token string }{{"bootstrap", testKey}, {"resolved", "sk-resolved"}} {
		b.Run(tc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/admin/v1/keys", nil)
			req.Header.Set("Authorization", "Bearer "+tc.token)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.authenticate(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseKeyBody(b *testing.B) {
	body := []byte(`{"name":"ci","team_id":"ta","models":["gpt-4o*","openai/*"],"rpm":60,"tpm":100000,` +
		`"budget_usd":"12.5","budget_period":"monthly","budget_tz":"Europe/Berlin","allowed_cidrs":["10.0.0.0/8"],` +
		`"metadata":{"env":"ci"},"expires_at":"2027-01-01T00:00:00Z"}`)
	b.ReportAllocs()
	for b.Loop() {
		f, perr := parseFields(body)
		if perr != nil {
			b.Fatal(perr)
		}
		if _, perr := parseKeyInput(f, false); perr != nil {
			b.Fatal(perr)
		}
	}
}

// BenchmarkListKeys serves one 50-key page from SQLite, end to end
// through the handler (no network).
func BenchmarkListKeys(b *testing.B) {
	db, err := store.Open(context.Background(), store.Config{Driver: store.DriverSQLite, DSN: b.TempDir() + "/s.db"})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for i := range 200 {
		k := store.Key{ID: fmt.Sprintf("key_%04d", i), Name: "k", Policy: store.Policy{Models: []string{"gpt-4o*"}},
			Metadata: map[string]string{"env": "prod"}, Hash: auth.HashKey(fmt.Sprint(i))}
		if err := db.CreateKey(context.Background(), &k); err != nil {
			b.Fatal(err)
		}
	}
	h, err := New(Options{Logs: db, Store: db, AdminKey: testKey})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/admin/v1/keys?limit=50", nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}
