package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

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
