package admin

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/store"
)

// This file turns query strings into store queries. Every parameter is
// checked here, so the store sees only well-formed filters; a bad one is a
// 400 naming it. Rules shared by every parameter: an empty value is the
// same as an absent one, a parameter given twice is refused, and an unknown
// one is refused (a typo must not silently widen a query).

const (
	// maxLimit is the largest page size (the store's own cap).
	maxLimit = 1000
	// maxMetadataFilters is the most metadata.<k> filters one query takes:
	// records carry at most 8 metadata keys, so more could never match.
	maxMetadataFilters = 8
	// maxBuckets caps a usage series' length per group, so one query
	// cannot ask for an unbounded answer (the store's own cap).
	maxBuckets = 1000
	// minBucket is the finest usage series step the store serves.
	minBucket = time.Minute
	// defaultUsageRange is the usage window when neither from nor to is given.
	defaultUsageRange = 24 * time.Hour
	// maxUnix is 9999-12-31T23:59:59Z, the last second RFC 3339 can write.
	maxUnix = 253402300799
)

// parseLogsQuery reads GET /logs parameters: the filters, limit and cursor.
func parseLogsQuery(q url.Values) (store.LogFilter, *llm.Error) {
	var f store.LogFilter
	err := eachParam(q, func(name, v string) *llm.Error {
		switch name {
		case "limit":
			n, err := limitParam(name, v)
			f.Limit = n
			return err
		case "cursor":
			f.Cursor = v
		default:
			return filterParam(&f, name, v)
		}
		return nil
	})
	if err != nil {
		return f, err
	}
	return f, checkFilter(&f)
}

// parseUsageQuery reads GET /usage parameters: the filters, bucket and
// group_by. Without from and to the range is the 24 hours before now; with
// only one of them it extends 24 hours from it, or up to now.
func parseUsageQuery(q url.Values, now time.Time) (store.UsageQuery, *llm.Error) {
	var u store.UsageQuery
	err := eachParam(q, func(name, v string) *llm.Error {
		switch name {
		case "bucket":
			d, err := parseBucket(v)
			if err != nil {
				return llm.BadRequest(name, "bucket: %s", err)
			}
			u.Bucket = d
		case "group_by":
			switch v {
			case "model", "provider", "key", "tenant", "team":
				u.GroupBy = v
			default:
				return llm.BadRequest(name, "group_by: want model, provider, key, tenant or team, got %s", short(v))
			}
		default:
			return filterParam(&u.Filter, name, v)
		}
		return nil
	})
	if err != nil {
		return u, err
	}
	f := &u.Filter
	switch {
	case f.From.IsZero() && f.To.IsZero():
		f.To = now.UTC().Truncate(time.Microsecond)
		f.From = f.To.Add(-defaultUsageRange)
	case f.To.IsZero():
		f.To = now.UTC().Truncate(time.Microsecond)
	case f.From.IsZero():
		f.From = f.To.Add(-defaultUsageRange)
	}
	if err := checkFilter(f); err != nil {
		return u, err
	}
	if u.Bucket > 0 && ceilDiv(f.To.Sub(f.From), u.Bucket) > maxBuckets {
		return u, llm.BadRequest("bucket", "bucket: %s over this range makes more than %d buckets; use a larger bucket or a shorter range", u.Bucket, maxBuckets)
	}
	// The range lives on the query; the store ignores the filter's.
	u.From, u.To = f.From, f.To
	f.From, f.To = time.Time{}, time.Time{}
	return u, nil
}

// eachParam calls fn for every non-empty parameter in name order (so the
// parameter a 400 names does not depend on map order) and stops at the
// first error. A parameter without a name ("?=x") is ignored like one
// without a value.
func eachParam(q url.Values, fn func(name, v string) *llm.Error) *llm.Error {
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		vs := q[name]
		if name == "" {
			continue
		}
		if len(vs) > 1 {
			return llm.BadRequest(name, "parameter %s is given more than once", short(name))
		}
		if len(vs) == 0 || vs[0] == "" {
			continue
		}
		if err := fn(name, vs[0]); err != nil {
			return err
		}
	}
	return nil
}

// filterParam sets the LogFilter field for one parameter both endpoints
// take, or refuses it as unknown.
func filterParam(f *store.LogFilter, name, v string) *llm.Error {
	switch name {
	case "from", "to":
		return rangeParam(&f.From, &f.To, name, v)
	case "client_request_id":
		f.ClientRequestID = v
	case "mirror_of":
		f.MirrorOf = v
	case "mirrors":
		switch v {
		case store.MirrorsOnly, store.MirrorsExclude:
			f.Mirrors = v
		default:
			return llm.BadRequest(name, "mirrors: want only or exclude, got %s", short(v))
		}
	case "model":
		f.Model = v
	case "node":
		f.Node = v
	case "provider":
		f.Provider = v
	case "key_id":
		f.KeyID = v
	case "tenant_id":
		f.TenantID = v
	case "team_id":
		f.TeamID = v
	case "status":
		if class, ok := parseClass(v); ok {
			return setClass(f, name, class)
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 || n > 599 {
			return llm.BadRequest(name, "status: want an HTTP status (429) or a class (2xx, 4xx, 5xx), got %s", short(v))
		}
		f.Status = n
	case "status_class":
		class, ok := parseClass(v)
		if !ok {
			if n, err := strconv.Atoi(v); err == nil && (n == 2 || n == 4 || n == 5) {
				class, ok = n, true
			}
		}
		if !ok {
			return llm.BadRequest(name, "status_class: want 2, 4 or 5 (or 2xx, 4xx, 5xx), got %s", short(v))
		}
		return setClass(f, name, class)
	case "cache":
		switch v {
		case "hit", "semantic_hit", "coalesced", "miss", "bypass":
			f.CacheStatus = v
		default:
			return llm.BadRequest(name, "cache: want hit, semantic_hit, coalesced, miss or bypass, got %s", short(v))
		}
	default:
		key, ok := strings.CutPrefix(name, "metadata.")
		if !ok {
			return unknownParam(name, v)
		}
		if key == "" {
			return llm.BadRequest(name, "metadata filters are written metadata.<key>=<value>")
		}
		if f.Metadata == nil {
			f.Metadata = make(map[string]string)
		}
		if len(f.Metadata) == maxMetadataFilters {
			return llm.BadRequest(name, "at most %d metadata filters", maxMetadataFilters)
		}
		f.Metadata[key] = metadataText(v)
	}
	return nil
}

// unknownParam refuses a parameter the endpoint does not take.
func unknownParam(name, _ string) *llm.Error {
	return llm.BadRequest(name, "unknown parameter %s", short(name))
}

// setClass sets the status class unless another parameter set a different one.
func setClass(f *store.LogFilter, name string, class int) *llm.Error {
	if f.StatusClass != 0 && f.StatusClass != class {
		return llm.BadRequest(name, "%s: conflicts with the status class already given (%dxx)", name, f.StatusClass)
	}
	f.StatusClass = class
	return nil
}

// checkFilter checks what no single parameter can: the range's order and
// an exact status within the class.
func checkFilter(f *store.LogFilter) *llm.Error {
	if err := checkRange(f.From, f.To); err != nil {
		return err
	}
	if f.Status != 0 && f.StatusClass != 0 && f.Status/100 != f.StatusClass {
		return llm.BadRequest("status_class", "status %d is not in class %dxx", f.Status, f.StatusClass)
	}
	return nil
}

// rangeParam sets *from or *to from a "from" or "to" parameter: RFC 3339
// or unix seconds.
func rangeParam(from, to *time.Time, name, v string) *llm.Error {
	t, ok := parseTime(v)
	if !ok {
		return llm.BadRequest(name, "%s: want an RFC 3339 time (2026-01-02T15:04:05Z) or unix seconds, got %s", name, short(v))
	}
	if name == "from" {
		*from = t
	} else {
		*to = t
	}
	return nil
}

// limitParam reads a page size, 1 to maxLimit.
func limitParam(name, v string) (int, *llm.Error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxLimit {
		return 0, llm.BadRequest(name, "limit: want an integer from 1 to %d, got %s", maxLimit, short(v))
	}
	return n, nil
}

// checkRange refuses a range whose from is not before its to (either may
// be zero: open).
func checkRange(from, to time.Time) *llm.Error {
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return llm.BadRequest("from", "from (%s) must be before to (%s)",
			from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano))
	}
	return nil
}
