package admin

import (
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sluicehq/sluice/internal/store"
)

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm.UTC()
}

// logsQueryCases are GET /logs query strings and the filter each becomes,
// or the parameter the 400 names. FuzzParseQuery is seeded from them.
var logsQueryCases = []struct {
	name      string
	query     string
	want      store.LogFilter
	wantParam string // non-empty: the query must fail naming this parameter
}{
	{name: "empty", query: ""},
	{name: "empty values are absent", query: "model=&from=&metadata.x="},
	{name: "rfc3339 range", query: "from=2026-01-02T03:04:05Z&to=2026-01-03T00:00:00.5Z",
		want: store.LogFilter{From: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), To: time.Date(2026, 1, 3, 0, 0, 0, 5e8, time.UTC)}},
	{name: "offset converted to UTC", query: "from=2026-01-02T05:04:05%2B02:00",
		want: store.LogFilter{From: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}},
	{name: "unescaped plus read as offset", query: "from=2026-01-02T05:04:05+02:00",
		want: store.LogFilter{From: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}},
	{name: "unix seconds", query: "from=1767225600&to=1767229200",
		want: store.LogFilter{From: time.Unix(1767225600, 0).UTC(), To: time.Unix(1767229200, 0).UTC()}},
	{name: "bad time", query: "from=yesterday", wantParam: "from"},
	{name: "negative unix", query: "to=-5", wantParam: "to"},
	{name: "unix beyond year 9999", query: "to=253402300800", wantParam: "to"},
	{name: "huge unix", query: "to=99999999999999999999999", wantParam: "to"},
	{name: "from not before to", query: "from=2026-01-02T00:00:00Z&to=2026-01-02T00:00:00Z", wantParam: "from"},
	{name: "string filters", query: "model=gpt-4o&provider=oai&key_id=k1&tenant_id=t1&team_id=tm1&cache=hit&client_request_id=envoy-1",
		want: store.LogFilter{Model: "gpt-4o", Provider: "oai", KeyID: "k1", TenantID: "t1", TeamID: "tm1", CacheStatus: "hit",
			ClientRequestID: "envoy-1"}},
	{name: "bad cache", query: "cache=warm", wantParam: "cache"},
	{name: "shadows of a request", query: "mirror_of=req_1", want: store.LogFilter{MirrorOf: "req_1"}},
	{name: "shadows only", query: "mirrors=only", want: store.LogFilter{Mirrors: store.MirrorsOnly}},
	{name: "client traffic only", query: "mirrors=exclude", want: store.LogFilter{Mirrors: store.MirrorsExclude}},
	{name: "bad mirrors", query: "mirrors=all", wantParam: "mirrors"},
	{name: "node", query: "node=sluice-0", want: store.LogFilter{Node: "sluice-0"}},
	{name: "exact status", query: "status=429", want: store.LogFilter{Status: 429}},
	{name: "status class", query: "status=4xx", want: store.LogFilter{StatusClass: 4}},
	{name: "status class upper", query: "status=5XX", want: store.LogFilter{StatusClass: 5}},
	{name: "status_class digit", query: "status_class=2", want: store.LogFilter{StatusClass: 2}},
	{name: "status_class xx", query: "status_class=5xx", want: store.LogFilter{StatusClass: 5}},
	{name: "status and agreeing class", query: "status=429&status_class=4", want: store.LogFilter{Status: 429, StatusClass: 4}},
	{name: "status outside class", query: "status=429&status_class=5", wantParam: "status_class"},
	{name: "two different classes", query: "status=4xx&status_class=5", wantParam: "status_class"},
	{name: "status 3xx class", query: "status=3xx", wantParam: "status"},
	{name: "status out of range", query: "status=600", wantParam: "status"},
	{name: "status_class bad", query: "status_class=3", wantParam: "status_class"},
	{name: "metadata bare string", query: "metadata.team=a", want: store.LogFilter{Metadata: map[string]string{"team": `"a"`}}},
	{name: "metadata number", query: "metadata.n=42&metadata.f=-1.5e3", want: store.LogFilter{Metadata: map[string]string{"n": `42`, "f": `-1.5e3`}}},
	{name: "metadata bool", query: "metadata.ok=true", want: store.LogFilter{Metadata: map[string]string{"ok": `true`}}},
	{name: "metadata quoted number is a string", query: `metadata.n="42"`, want: store.LogFilter{Metadata: map[string]string{"n": `"42"`}}},
	{name: "metadata quoted escapes canonical", query: `metadata.s="\u0061<"`, want: store.LogFilter{Metadata: map[string]string{"s": `"a<"`}}},
	{name: "metadata not quite a number", query: "metadata.v=01&metadata.w=1.", want: store.LogFilter{Metadata: map[string]string{"v": `"01"`, "w": `"1."`}}},
	{name: "metadata needs escaping", query: "metadata.q=" + url.QueryEscape(`say "hi"`), want: store.LogFilter{Metadata: map[string]string{"q": `"say \"hi\""`}}},
	{name: "metadata empty key", query: "metadata.=x", wantParam: "metadata."},
	{name: "too many metadata filters", query: "metadata.a=1&metadata.b=1&metadata.c=1&metadata.d=1&metadata.e=1&metadata.f=1&metadata.g=1&metadata.h=1&metadata.i=1", wantParam: "metadata.i"},
	{name: "limit and cursor", query: "limit=10&cursor=abc", want: store.LogFilter{Limit: 10, Cursor: "abc"}},
	{name: "limit zero", query: "limit=0", wantParam: "limit"},
	{name: "limit too big", query: "limit=1001", wantParam: "limit"},
	{name: "limit not a number", query: "limit=ten", wantParam: "limit"},
	{name: "repeated parameter", query: "model=a&model=b", wantParam: "model"},
	{name: "unknown parameter", query: "modle=a", wantParam: "modle"},
	{name: "usage parameter on logs", query: "group_by=model", wantParam: "group_by"},
}

func TestParseLogsQuery(t *testing.T) {
	for _, tc := range logsQueryCases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			got, perr := parseLogsQuery(q)
			if tc.wantParam != "" {
				if perr == nil {
					t.Fatalf("got filter %+v, want a 400 naming %q", got, tc.wantParam)
				}
				if perr.Status != 400 || perr.Param != tc.wantParam || perr.Message == "" {
					t.Errorf("got error %d param %q message %q, want 400 param %q", perr.Status, perr.Param, perr.Message, tc.wantParam)
				}
				return
			}
			if perr != nil {
				t.Fatalf("unexpected error: %v", perr)
			}
			if diff := cmp.Diff(got, tc.want); diff != "" {
				t.Errorf("filter (-got +want):\n%s", diff)
			}
		})
	}
}

func TestParseUsageQuery(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	nowUS := now.Truncate(time.Microsecond)
	day := 24 * time.Hour
	from := mustTime(t, "2026-02-01T00:00:00Z")
	to := mustTime(t, "2026-02-02T00:00:00Z")
	tests := []struct {
		name      string
		query     string
		want      store.UsageQuery
		wantParam string
	}{
		{name: "default range is the last day", query: "",
			want: store.UsageQuery{From: nowUS.Add(-day), To: nowUS}},
		{name: "only from runs to now", query: "from=2026-02-01T00:00:00Z",
			want: store.UsageQuery{From: from, To: nowUS}},
		{name: "only to runs a day back", query: "to=2026-02-02T00:00:00Z",
			want: store.UsageQuery{From: from, To: to}},
		{name: "bucket duration and group", query: "from=2026-02-01T00:00:00Z&to=2026-02-02T00:00:00Z&bucket=1h&group_by=model",
			want: store.UsageQuery{From: from, To: to, Bucket: time.Hour, GroupBy: "model"}},
		{name: "bucket seconds", query: "bucket=900", want: store.UsageQuery{From: nowUS.Add(-day), To: nowUS, Bucket: 15 * time.Minute}},
		{name: "filters go to the filter", query: "provider=oai&status=5xx&metadata.env=prod",
			want: store.UsageQuery{From: nowUS.Add(-day), To: nowUS,
				Filter: store.LogFilter{Provider: "oai", StatusClass: 5, Metadata: map[string]string{"env": `"prod"`}}}},
		{name: "bucket below a minute", query: "bucket=30s", wantParam: "bucket"},
		{name: "bucket fractional seconds", query: "bucket=90.5s", wantParam: "bucket"},
		{name: "bucket garbage", query: "bucket=hourly", wantParam: "bucket"},
		{name: "exactly the most buckets", query: "from=0&to=60000&bucket=1m",
			want: store.UsageQuery{From: time.Unix(0, 0).UTC(), To: time.Unix(60000, 0).UTC(), Bucket: time.Minute}},
		{name: "one bucket too many", query: "from=0&to=60001&bucket=1m", wantParam: "bucket"},
		{name: "too many buckets", query: "from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&bucket=1m", wantParam: "bucket"},
		{name: "bad group_by", query: "group_by=colour", wantParam: "group_by"},
		{name: "from after to", query: "from=2026-02-02T00:00:00Z&to=2026-02-01T00:00:00Z", wantParam: "from"},
		{name: "from after now", query: "from=2027-01-01T00:00:00Z", wantParam: "from"},
		{name: "limit is a logs parameter", query: "limit=5", wantParam: "limit"},
		{name: "cursor is a logs parameter", query: "cursor=x", wantParam: "cursor"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			got, perr := parseUsageQuery(q, now)
			if tc.wantParam != "" {
				if perr == nil {
					t.Fatalf("got query %+v, want a 400 naming %q", got, tc.wantParam)
				}
				if perr.Status != 400 || perr.Param != tc.wantParam {
					t.Errorf("got error %d param %q (%s), want 400 param %q", perr.Status, perr.Param, perr.Message, tc.wantParam)
				}
				return
			}
			if perr != nil {
				t.Fatalf("unexpected error: %v", perr)
			}
			if diff := cmp.Diff(got, tc.want); diff != "" {
				t.Errorf("query (-got +want):\n%s", diff)
			}
		})
	}
}

func TestShortCutsLongValuesOnARuneBoundary(t *testing.T) {
	long := "é" + string(make([]byte, 100)) // 2-byte rune first, then 100 NULs
	got := short(long)
	if want := `"é` + `\x00`; len(got) > 300 || got[:len(want)] != want || got[len(got)-len("…"):] != "…" {
		t.Errorf("short(long) = %q: want a quoted prefix ending in …", got)
	}
	if got, want := short("ab"), `"ab"`; got != want {
		t.Errorf("short(ab) = %s, want %s", got, want)
	}
}
