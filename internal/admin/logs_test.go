package admin

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sluicehq/sluice/internal/store"
)

// logList is the GET /logs answer.
type logList struct {
	Object     string            `json:"object"`
	Data       []json.RawMessage `json:"data"`
	NextCursor *string           `json:"next_cursor"`
	HasMore    bool              `json:"has_more"`
}

// listIDs fetches path, checks the list shape and returns the ids in order.
func listIDs(t *testing.T, base, path string) ([]string, logList) {
	t.Helper()
	r := get(t, base, path)
	if r.status != 200 {
		t.Fatalf("GET %s: %d %s", path, r.status, r.body)
	}
	var l logList
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, r.body)
	}
	if l.Object != "list" || l.Data == nil || l.HasMore != (l.NextCursor != nil) {
		t.Fatalf("GET %s: bad list envelope: %s", path, r.body)
	}
	ids := []string{}
	for _, raw := range l.Data {
		var rec map[string]any
		if err := json.Unmarshal(raw, &rec); err != nil {
			t.Fatal(err)
		}
		if _, ok := rec["request_body"]; ok {
			t.Errorf("GET %s: a listed record carries request_body", path)
		}
		ids = append(ids, rec["id"].(string))
	}
	return ids, l
}

func TestLogsFilters(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{name: "everything newest first, ties by id desc", query: "", want: []string{"r06", "r05", "r04", "r03", "r02", "r01", "r00", "r07"}},
		{name: "from rfc3339 inclusive", query: "from=2026-03-01T09:10:00Z", want: []string{"r06", "r05", "r04", "r03", "r02"}},
		{name: "to unix seconds exclusive", query: "to=1772356200", want: []string{"r01", "r00", "r07"}}, // 09:10Z
		{name: "from and to with offset", query: "from=2026-03-01T10:00:00%2B01:00&to=2026-03-01T09:30:00Z", want: []string{"r03", "r02", "r01", "r00"}},
		{name: "model matches the requested model", query: "model=chat-default", want: []string{"r05", "r04", "r01"}},
		{name: "model matches the provider model", query: "model=gpt-4o-mini", want: []string{"r04", "r01"}},
		{name: "provider", query: "provider=anth", want: []string{"r05", "r02"}},
		{name: "exact status", query: "status=429", want: []string{"r02"}},
		{name: "status class via status", query: "status=4xx", want: []string{"r02", "r00"}},
		{name: "status_class", query: "status_class=5", want: []string{"r03"}},
		{name: "successes", query: "status=2xx", want: []string{"r06", "r05", "r04", "r01", "r07"}},
		{name: "key_id", query: "key_id=k1", want: []string{"r05", "r03", "r01", "r07"}},
		{name: "tenant_id", query: "tenant_id=t2", want: []string{"r04", "r03"}},
		{name: "team_id", query: "team_id=b", want: []string{"r04", "r02"}},
		{name: "cache", query: "cache=hit", want: []string{"r05", "r04"}},
		{name: "client_request_id shared by a retry", query: "client_request_id=envoy-1", want: []string{"r05", "r01"}},
		{name: "client_request_id exact", query: "client_request_id=envoy", want: []string{}},
		{name: "metadata bare string", query: "metadata.team=a", want: []string{"r05", "r01"}},
		{name: "metadata number", query: "metadata.n=42", want: []string{"r01"}},
		{name: "metadata quoted string", query: "metadata.n=" + url.QueryEscape(`"42"`), want: []string{"r02"}},
		{name: "metadata bool", query: "metadata.ok=true", want: []string{"r03"}},
		{name: "metadata bool as string matches nothing", query: "metadata.ok=" + url.QueryEscape(`"true"`), want: []string{}},
		{name: "two metadata keys", query: "metadata.team=a&metadata.n=42", want: []string{"r01"}},
		{name: "filters combine", query: "provider=oai&cache=miss", want: []string{"r06", "r01"}},
		{name: "no match", query: "tenant_id=zzz", want: []string{}},
		{name: "node", query: "node=sluice-1", want: []string{"r05", "r01"}},
		{name: "node that served nothing", query: "node=sluice-9", want: []string{}},
	}
	eachBackend(t, func(t *testing.T, db *store.DB) {
		base := seeded(t, db)
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, l := listIDs(t, base, "/admin/v1/logs?"+tc.query)
				if diff := cmp.Diff(got, tc.want); diff != "" {
					t.Errorf("ids (-got +want):\n%s", diff)
				}
				if l.HasMore {
					t.Errorf("has_more on a short list")
				}
			})
		}
	})
}

func TestLogsPagination(t *testing.T) {
	tests := []struct {
		name      string
		query     string
		wantPages [][]string
	}{
		// The page boundary falls between r01 and r00, which share a time.
		{name: "pages of three", query: "limit=3", wantPages: [][]string{{"r06", "r05", "r04"}, {"r03", "r02", "r01"}, {"r00", "r07"}}},
		{name: "filtered pages of one", query: "limit=1&provider=oai&status=2xx", wantPages: [][]string{{"r06"}, {"r04"}, {"r01"}, {"r07"}}},
		{name: "exact fit leaves no next page", query: "limit=2&cache=hit", wantPages: [][]string{{"r05", "r04"}}},
	}
	eachBackend(t, func(t *testing.T, db *store.DB) {
		base := seeded(t, db)
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				var pages [][]string
				path := "/admin/v1/logs?" + tc.query
				for range 10 {
					ids, l := listIDs(t, base, path)
					pages = append(pages, ids)
					if !l.HasMore {
						break
					}
					path = "/admin/v1/logs?" + tc.query + "&cursor=" + url.QueryEscape(*l.NextCursor)
				}
				if diff := cmp.Diff(pages, tc.wantPages); diff != "" {
					t.Errorf("pages (-got +want):\n%s", diff)
				}
			})
		}
	})
}

func TestLogByID(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		base := seeded(t, db)
		t.Run("with bodies", func(t *testing.T) {
			r := get(t, base, "/admin/v1/logs/r04")
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			goldenJSON(t, "testdata/log_r04.json", r.body)
			var rec map[string]any
			if err := json.Unmarshal(r.body, &rec); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{
				"request_body":      base64.StdEncoding.EncodeToString(fixtureRecords()[4].RequestBody),
				"request_body_text": string(fixtureRecords()[4].RequestBody),
				"response_body":     "H4sIAA==",
			}
			got := map[string]any{}
			for k := range want {
				got[k] = rec[k]
			}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("bodies (-got +want):\n%s", diff)
			}
			if _, ok := rec["response_body_text"]; ok {
				t.Errorf("response_body_text present for a binary body")
			}
		})
		t.Run("without bodies", func(t *testing.T) {
			r := get(t, base, "/admin/v1/logs/r01")
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			goldenJSON(t, "testdata/log_r01.json", r.body)
			if strings.Contains(string(r.body), "request_body") {
				t.Errorf("record without payload has body members: %s", r.body)
			}
		})
		t.Run("unknown id", func(t *testing.T) {
			r := get(t, base, "/admin/v1/logs/nope")
			e := decodeError(t, r)
			if r.status != 404 || deref(e.Error.Code) != "not_found" {
				t.Errorf("got %d %s, want 404 not_found", r.status, r.body)
			}
		})
		t.Run("query parameters refused", func(t *testing.T) {
			r := get(t, base, "/admin/v1/logs/r01?limit=3")
			if e := decodeError(t, r); r.status != 400 || deref(e.Error.Param) != "limit" {
				t.Errorf("got %d %s, want 400 naming limit", r.status, r.body)
			}
		})
	})
}
