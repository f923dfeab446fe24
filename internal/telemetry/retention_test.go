package telemetry

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/store"
)

// pruneCall is one PruneLogs call's arguments.
type pruneCall struct {
	Before time.Time
	Keep   int
}

// recordingLogs is the real store with its PruneLogs calls recorded.
type recordingLogs struct {
	store.Logs
	mu    sync.Mutex
	calls []pruneCall
}

func (r *recordingLogs) PruneLogs(ctx context.Context, before time.Time, keep int) (int64, error) {
	r.mu.Lock()
	r.calls = append(r.calls, pruneCall{before, keep})
	r.mu.Unlock()
	return r.Logs.PruneLogs(ctx, before, keep)
}

func (r *recordingLogs) pruneCalls() []pruneCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]pruneCall(nil), r.calls...)
}

func TestRetentionPrunesWithClockCutoff(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	// Ten records, one an hour, the newest at now − 1h.
	recs := make([]store.Record, 10)
	for i := range recs {
		recs[i] = store.Record{ID: "r" + string(rune('0'+i)), Time: now.Add(-time.Duration(10-i) * time.Hour)}
	}
	tests := []struct {
		name     string
		ret      Retention
		want     pruneCall
		deleted  int64
		firstKep string // oldest record left
	}{
		{"age", Retention{MaxAge: 5*time.Hour + time.Minute}, pruneCall{Before: now.Add(-5*time.Hour - time.Minute)}, 5, "r5"},
		{"count", Retention{MaxRecords: 3}, pruneCall{Keep: 3}, 7, "r7"},
		{"both", Retention{MaxAge: 8 * time.Hour, MaxRecords: 4}, pruneCall{Before: now.Add(-8 * time.Hour), Keep: 4}, 6, "r6"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openSQLite(t)
			if err := db.InsertLogs(context.Background(), recs); err != nil {
				t.Fatal(err)
			}
			logs := &recordingLogs{Logs: db}
			tc.ret.Interval = time.Hour // the loop stays out of the way
			p, _ := newTestPipeline(t, logs, PipelineConfig{Retention: tc.ret, Now: func() time.Time { return now }})
			n, err := p.prune(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(logs.pruneCalls(), []pruneCall{tc.want}); diff != "" {
				t.Errorf("PruneLogs calls (-got +want):\n%s", diff)
			}
			if n != tc.deleted {
				t.Errorf("deleted %d, want %d", n, tc.deleted)
			}
			page, err := db.QueryLogs(context.Background(), store.LogFilter{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if got := page.Records[len(page.Records)-1].ID; got != tc.firstKep {
				t.Errorf("oldest record left = %s, want %s", got, tc.firstKep)
			}
		})
	}
}

func TestRetentionLoopRuns(t *testing.T) {
	logs := &recordingLogs{Logs: openSQLite(t)}
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	p, _ := newTestPipeline(t, logs, PipelineConfig{
		Retention: Retention{MaxAge: 24 * time.Hour, Interval: time.Millisecond},
		Now:       func() time.Time { return now },
	})
	waitFor(t, "a retention run", func() bool { return len(logs.pruneCalls()) > 0 })
	closePipeline(t, p)
	if got := logs.pruneCalls()[0]; !got.Before.Equal(now.Add(-24*time.Hour)) || got.Keep != 0 {
		t.Errorf("first PruneLogs call = %+v", got)
	}
}

func TestRetentionDefaults(t *testing.T) {
	tests := []struct {
		name        string
		in          Retention
		wantEnabled bool
		wantEvery   time.Duration
	}{
		{"zero keeps everything", Retention{}, false, 10 * time.Minute},
		{"interval alone keeps everything", Retention{Interval: time.Minute}, false, time.Minute},
		{"age", Retention{MaxAge: time.Hour}, true, 10 * time.Minute},
		{"count", Retention{MaxRecords: 1}, true, 10 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.in
			if err := r.defaults(); err != nil {
				t.Fatal(err)
			}
			if r.enabled() != tc.wantEnabled || r.Interval != tc.wantEvery {
				t.Errorf("enabled %v every %v, want %v every %v", r.enabled(), r.Interval, tc.wantEnabled, tc.wantEvery)
			}
		})
	}
}
