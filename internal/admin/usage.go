package admin

import (
	"math"
	"net/http"
	"time"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/telemetry"
)

// handleUsage serves GET /admin/v1/usage: totals and a time series over a
// range, overall and per group:
//
//	{"from","to","bucket_seconds","totals":{stats},
//	 "groups":[{"key","totals":{stats},"series":[{"start",stats…}]}]}
//
// Groups come largest first; without group_by there is one group with key
// "". Buckets without records are left out of a series.
//
// A member's report is held to its team, and a tenant-scoped key's to its
// tenant, as for /logs.
func (s *server) handleUsage(_ http.ResponseWriter, r *http.Request, c *call) error {
	if err := needRead(&c.p); err != nil {
		return err
	}
	q, perr := parseUsageQuery(r.URL.Query(), s.now())
	if perr != nil {
		return perr
	}
	if perr := c.scope.narrow(&q.Filter.TenantID, &q.Filter.TeamID); perr != nil {
		return perr
	}
	rep, err := s.logs.Usage(r.Context(), q)
	if err != nil {
		return storeError(err, kindLog, "")
	}
	c.reply(http.StatusOK, appendUsage(make([]byte, 0, 4096), &rep))
	return nil
}

// appendUsage appends rep as handleUsage's answer.
func appendUsage(dst []byte, rep *store.UsageReport) []byte {
	dst = append(dst, '{')
	dst = jsonw.AppendKey(dst, "from")
	dst = telemetry.AppendTime(dst, rep.From)
	dst = jsonw.AppendKey(dst, "to")
	dst = telemetry.AppendTime(dst, rep.To)
	dst = appendInt(dst, "bucket_seconds", int64(rep.Bucket/time.Second))
	dst = jsonw.AppendKey(dst, "totals")
	dst = appendStats(append(dst, '{'), &rep.Totals)
	dst = append(dst, '}')
	dst = jsonw.AppendKey(dst, "groups")
	dst = append(dst, '[')
	for i := range rep.Groups {
		g := &rep.Groups[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '{')
		dst = appendStr(dst, "key", g.Key)
		dst = jsonw.AppendKey(dst, "totals")
		dst = appendStats(append(dst, '{'), &g.Totals)
		dst = append(dst, '}')
		dst = jsonw.AppendKey(dst, "series")
		dst = append(dst, '[')
		for j := range g.Series {
			b := &g.Series[j]
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '{')
			dst = jsonw.AppendKey(dst, "start")
			dst = telemetry.AppendTime(dst, b.Start)
			dst = appendStats(dst, &b.Stats)
			dst = append(dst, '}')
		}
		dst = append(dst, ']', '}')
	}
	return append(dst, ']', '}')
}

// appendStats appends the members of st (no braces): counts, tokens, money
// in dollars and micros, the cache hit ratio rounded to 6 decimals, and
// latency and TTFT percentiles in milliseconds, in the record's formats
// (telemetry.AppendUSD, telemetry.AppendMillis).
func appendStats(dst []byte, st *store.Stats) []byte {
	dst = appendInt(dst, "requests", st.Requests)
	dst = appendInt(dst, "errors", st.Errors)
	dst = appendInt(dst, "prompt_tokens", st.PromptTokens)
	dst = appendInt(dst, "completion_tokens", st.CompletionTokens)
	dst = appendInt(dst, "cached_tokens", st.CachedTokens)
	dst = jsonw.AppendKey(dst, "cost_usd")
	dst = telemetry.AppendUSD(dst, st.CostMicros)
	dst = appendInt(dst, "cost_micros", st.CostMicros)
	dst = jsonw.AppendKey(dst, "saved_usd")
	dst = telemetry.AppendUSD(dst, st.SavedMicros)
	dst = appendInt(dst, "saved_micros", st.SavedMicros)
	dst = appendInt(dst, "cache_hits", st.CacheHits)
	dst = jsonw.AppendKey(dst, "cache_hit_ratio")
	dst = jsonw.AppendFloat(dst, math.Round(st.CacheHitRatio*1e6)/1e6, 64)
	dst = jsonw.AppendKey(dst, "latency_ms")
	dst = appendPercentiles(dst, st.LatencyP50, st.LatencyP95, st.LatencyP99)
	dst = jsonw.AppendKey(dst, "ttft_ms")
	return appendPercentiles(dst, st.TTFTP50, st.TTFTP95, st.TTFTP99)
}

func appendPercentiles(dst []byte, p50, p95, p99 int64) []byte {
	dst = append(dst, `{"p50":`...)
	dst = telemetry.AppendMillis(dst, p50)
	dst = append(dst, `,"p95":`...)
	dst = telemetry.AppendMillis(dst, p95)
	dst = append(dst, `,"p99":`...)
	dst = telemetry.AppendMillis(dst, p99)
	return append(dst, '}')
}

func appendStr(dst []byte, key, v string) []byte {
	return jsonw.AppendString(jsonw.AppendKey(dst, key), v)
}

func appendInt(dst []byte, key string, v int64) []byte {
	return jsonw.AppendInt(jsonw.AppendKey(dst, key), v)
}
