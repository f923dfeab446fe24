package admin

import (
	"net/url"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/store"
)

// FuzzParseQuery feeds raw query strings to both endpoints' parsers: they
// must not panic, must refuse with a 400 naming a parameter, or accept with
// a filter the store can take as is.
func FuzzParseQuery(f *testing.F) {
	for _, tc := range logsQueryCases {
		f.Add(tc.query)
	}
	for _, s := range []string{"bucket=1h&group_by=team", "bucket=60", "to=0", "from=0&to=1",
		"from=2026-01-02T05:04:05.999999999-23:59", "metadata.%00=%ff", `metadata.k="\ud800"`, "status=4x"} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw string) {
		q, _ := url.ParseQuery(raw) // what ParseQuery could read is what a handler sees
		lf, err := parseLogsQuery(q)
		if err != nil {
			checkRefusal(t, err)
		} else {
			checkFilterInvariants(t, &lf)
			if lf.Limit < 0 || lf.Limit > maxLimit {
				t.Errorf("limit %d out of range", lf.Limit)
			}
		}
		uq, err := parseUsageQuery(q, now)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		checkFilterInvariants(t, &uq.Filter)
		if uq.From.IsZero() || uq.To.IsZero() || !uq.From.Before(uq.To) {
			t.Errorf("usage range [%v, %v) is not a range", uq.From, uq.To)
		}
		if !uq.Filter.From.IsZero() || !uq.Filter.To.IsZero() {
			t.Errorf("usage filter keeps a range: %v %v", uq.Filter.From, uq.Filter.To)
		}
		if uq.Bucket != 0 && (uq.Bucket < minBucket || uq.Bucket%time.Second != 0 || ceilDiv(uq.To.Sub(uq.From), uq.Bucket) > maxBuckets) {
			t.Errorf("bucket %v accepted", uq.Bucket)
		}
	})
}

func checkRefusal(t *testing.T, err *llm.Error) {
	t.Helper()
	if err.Status != 400 || err.Param == "" || err.Message == "" || !utf8.ValidString(err.Message) {
		t.Errorf("refusal %d param %q message %q: want 400 with a param and a message", err.Status, err.Param, err.Message)
	}
}

func checkFilterInvariants(t *testing.T, f *store.LogFilter) {
	t.Helper()
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		t.Errorf("from %v not before to %v", f.From, f.To)
	}
	for _, tm := range []time.Time{f.From, f.To} {
		if !tm.IsZero() && tm.Location() != time.UTC {
			t.Errorf("time %v not in UTC", tm)
		}
	}
	switch f.StatusClass {
	case 0, 2, 4, 5:
	default:
		t.Errorf("status class %d", f.StatusClass)
	}
	if f.Status != 0 && (f.Status < 100 || f.Status > 599 || f.StatusClass != 0 && f.Status/100 != f.StatusClass) {
		t.Errorf("status %d class %d", f.Status, f.StatusClass)
	}
	if len(f.Metadata) > maxMetadataFilters {
		t.Errorf("%d metadata filters", len(f.Metadata))
	}
	for k, v := range f.Metadata {
		if k == "" || !jsonw.Valid([]byte(v)) || !utf8.ValidString(v) {
			t.Errorf("metadata filter %q=%q is not a key and one JSON value", k, v)
		}
		switch jsonw.KindOf([]byte(v)) {
		case "a string", "a number", "a boolean":
		default:
			t.Errorf("metadata filter %q=%q is %s", k, v, jsonw.KindOf([]byte(v)))
		}
	}
}
