package store

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"
)

// maxBuckets caps the series length of a usage query.
const maxBuckets = 1000

// groupColumns maps UsageQuery.GroupBy to the column grouped on.
var groupColumns = map[string]string{
	"":         "''",
	"model":    "model_requested",
	"provider": "provider",
	"key":      "key_id",
	"tenant":   "tenant_id",
	"team":     "team_id",
}

// Usage aggregates the records in [q.From, q.To) that match q.Filter.
// From and To are required and truncated to the microsecond, like record
// times; Bucket is truncated to the microsecond, must be at least a
// minute and yield at most 1,000 buckets (0 picks the range / 60, rounded
// up to a whole minute). Buckets are aligned to multiples of Bucket since
// the Unix epoch (whole minutes, hours, UTC days), so series from
// different queries line up; the first may start before From and the
// last run past To, but only records in [From, To) are counted. Invalid queries fail with an error wrapping ErrBadQuery.
//
// The matching rows are streamed and aggregated in Go, so both databases
// give identical results (percentiles are nearest-rank); memory grows by
// about 50 bytes per matching record while the report is built.
func (db *DB) Usage(ctx context.Context, q UsageQuery) (UsageReport, error) {
	col, ok := groupColumns[q.GroupBy]
	if !ok {
		return UsageReport{}, fmt.Errorf("store: usage: %w: group by %q (want model, provider, key, tenant or team)", ErrBadQuery, q.GroupBy)
	}
	fromUS, bucketUS, err := usageRange(q)
	if err != nil {
		return UsageReport{}, fmt.Errorf("store: usage: %w", err)
	}
	originUS := fromUS - mod(fromUS, bucketUS)
	f := q.Filter
	f.From, f.To = time.UnixMicro(fromUS), time.UnixMicro(q.To.UnixMicro())
	s := db.d.stmt().sql("SELECT " + col + ", time_us, status, prompt_tokens, completion_tokens, cached_tokens," +
		" cost_micros, saved_micros, cache_status, latency_us, ttft_us FROM request_logs WHERE 1=1")
	if err := whereFilter(s, f); err != nil {
		return UsageReport{}, fmt.Errorf("store: usage: %w", err)
	}

	rows, err := db.r.QueryContext(ctx, s.String(), s.args...)
	if err != nil {
		return UsageReport{}, fmt.Errorf("store: usage: %w", err)
	}
	defer rows.Close()
	var (
		total  acc
		groups = map[string]*groupAcc{}
		row    usageRow
	)
	for rows.Next() {
		var key string
		if err := rows.Scan(&key, &row.timeUS, &row.status, &row.promptTokens, &row.completionTokens, &row.cachedTokens,
			&row.costMicros, &row.savedMicros, &row.cacheStatus, &row.latencyUS, &row.ttftUS); err != nil {
			return UsageReport{}, fmt.Errorf("store: usage: %w", err)
		}
		g := groups[key]
		if g == nil {
			g = &groupAcc{buckets: map[int64]*acc{}}
			groups[key] = g
		}
		k := (row.timeUS - originUS) / bucketUS
		b := g.buckets[k]
		if b == nil {
			b = &acc{}
			g.buckets[k] = b
		}
		total.add(&row)
		g.total.add(&row)
		b.add(&row)
	}
	if err := rows.Err(); err != nil {
		return UsageReport{}, fmt.Errorf("store: usage: %w", err)
	}

	rep := UsageReport{
		From:   time.UnixMicro(fromUS).UTC(),
		To:     time.UnixMicro(q.To.UnixMicro()).UTC(),
		Bucket: time.Duration(bucketUS) * time.Microsecond,
		Totals: total.stats(),
	}
	for key, g := range groups {
		ug := UsageGroup{Key: key, Totals: g.total.stats()}
		for _, k := range slices.Sorted(maps.Keys(g.buckets)) {
			ug.Series = append(ug.Series, Bucket{Start: time.UnixMicro(originUS + k*bucketUS).UTC(), Stats: g.buckets[k].stats()})
		}
		rep.Groups = append(rep.Groups, ug)
	}
	slices.SortFunc(rep.Groups, func(a, b UsageGroup) int {
		if c := cmp.Compare(b.Totals.Requests, a.Totals.Requests); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return rep, nil
}

// usageRange validates q's range and bucket and returns them in
// microseconds.
func usageRange(q UsageQuery) (fromUS, bucketUS int64, err error) {
	if q.From.IsZero() || q.To.IsZero() {
		return 0, 0, fmt.Errorf("%w: from and to are required", ErrBadQuery)
	}
	fromUS, toUS := q.From.UnixMicro(), q.To.UnixMicro()
	if toUS <= fromUS {
		return 0, 0, fmt.Errorf("%w: to (%s) is not after from (%s)", ErrBadQuery, q.To, q.From)
	}
	const minuteUS = int64(time.Minute / time.Microsecond)
	rangeUS := toUS - fromUS
	bucketUS = int64(q.Bucket / time.Microsecond)
	switch {
	case q.Bucket == 0:
		bucketUS = ceilDiv(ceilDiv(rangeUS, 60), minuteUS) * minuteUS
	case q.Bucket < time.Minute:
		return 0, 0, fmt.Errorf("%w: bucket %s is under a minute", ErrBadQuery, q.Bucket)
	}
	if n := ceilDiv(toUS-(fromUS-mod(fromUS, bucketUS)), bucketUS); n > maxBuckets {
		return 0, 0, fmt.Errorf("%w: %d buckets of %s (at most %d); use a larger bucket or a shorter range",
			ErrBadQuery, n, time.Duration(bucketUS)*time.Microsecond, maxBuckets)
	}
	return fromUS, bucketUS, nil
}

// mod is a mod b in [0, b) for b > 0, also for negative a.
func mod(a, b int64) int64 {
	if m := a % b; m < 0 {
		return m + b
	}
	return a % b
}

// ceilDiv is ⌈a/b⌉ for a ≥ 0, b > 0.
func ceilDiv(a, b int64) int64 { return a/b + min(a%b, 1) }
