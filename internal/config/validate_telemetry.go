package config

import (
	"net/url"
	"strings"

	"github.com/sluicehq/sluice/internal/usage"
)

func (v *validator) auth() {
	if v.c.Auth.KeyRefresh <= 0 {
		v.bad("auth.key_refresh", "must be greater than 0")
	}
	if v.c.Auth.FailedPerMinute < 0 {
		v.bad("auth.failed_per_minute", "must not be negative (0 switches the limit off)")
	}
	v.jwt()
	v.spike()
}

func (v *validator) store() {
	s := &v.c.Store
	switch s.Driver {
	case "sqlite":
		if s.DSN == "" {
			v.missing("store.dsn", "required: the SQLite file path")
		}
	case "postgres":
		if s.DSN == "" {
			v.missing("store.dsn", `required for postgres: a URL such as "${SLUICE_DATABASE_URL}"`)
		} else if u, err := url.Parse(s.DSN.Value()); err != nil || u.Scheme != "postgres" && u.Scheme != "postgresql" {
			v.bad("store.dsn", "must be a postgres:// URL") // never printed: it holds a password
		}
	default:
		v.bad("store.driver", "must be sqlite or postgres%s", v.show("store.driver", s.Driver))
	}
}

func (v *validator) requestLog() {
	l := &v.c.RequestLog
	v.positive("request_log.queue_size", l.QueueSize)
	v.positive("request_log.batch_size", l.BatchSize)
	if l.FlushInterval <= 0 {
		v.bad("request_log.flush_interval", "must be greater than 0")
	}
	if l.WriteTimeout <= 0 {
		v.bad("request_log.write_timeout", "must be greater than 0")
	}
	if l.RetryInterval <= 0 {
		v.bad("request_log.retry_interval", "must be greater than 0")
	}
	v.nonNegative("request_log.retention.max_age", l.Retention.MaxAge)
	if l.Retention.MaxRecords < 0 {
		v.bad("request_log.retention.max_records", "must not be negative (0 means no limit)")
	}
	v.positive("request_log.payloads.max_bytes", l.Payloads.MaxBytes)
	for i, r := range l.Payloads.Routes {
		if !strings.HasPrefix(r, "/") {
			v.bad(indexPath("request_log.payloads.routes", i), "must be a path starting with /%s", v.show(indexPath("request_log.payloads.routes", i), r))
		}
	}
	wh := &l.Export.Webhook
	if wh.URL != "" {
		v.httpURL("request_log.export.webhook.url", wh.URL.Value())
		v.positive("request_log.export.webhook.batch_size", wh.BatchSize)
		if wh.FlushInterval <= 0 {
			v.bad("request_log.export.webhook.flush_interval", "must be greater than 0")
		}
		if wh.MaxRetries < 0 {
			v.bad("request_log.export.webhook.max_retries", "must not be negative")
		}
		v.headers(secretValues(wh.Headers), "request_log.export.webhook.headers")
	}
}

func (v *validator) tracing() {
	t := &v.c.Tracing
	if t.SampleRatio < 0 || t.SampleRatio > 1 {
		v.bad("tracing.sample_ratio", "must be from 0 to 1")
	}
	if !t.Enabled {
		return
	}
	if t.Endpoint == "" {
		v.missing("tracing.endpoint", "required when tracing is enabled: the OTLP/HTTP collector, e.g. http://127.0.0.1:4318")
	} else if v.httpURL("tracing.endpoint", t.Endpoint.Value()) {
		if u, _ := url.Parse(t.Endpoint.Value()); u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			v.bad("tracing.endpoint", "must not carry credentials, a query or a fragment (put credentials in tracing.headers)")
		}
	}
	v.headers(secretValues(t.Headers), "tracing.headers")
}

func (v *validator) pricing() {
	first := make(map[string]string, len(v.c.Pricing))
	for i, p := range v.c.Pricing {
		path := indexPath("pricing", i)
		if p.Model == "" {
			v.missing(fieldPath(path, "model"), `required: "provider/model" or a bare model name`)
		} else if at, dup := first[p.Model]; dup {
			v.bad(fieldPath(path, "model"), "%q is priced twice (first at %s)", p.Model, v.firstAt(at))
		} else {
			first[p.Model] = fieldPath(path, "model")
		}
		for _, f := range []struct {
			key, val string
			required bool
		}{{"input", p.Input, true}, {"output", p.Output, true}, {"cached_input", p.CachedInput, false},
			{"cache_write", p.CacheWrite, false}, {"per_request", p.PerRequest, false}} {
			fp := fieldPath(path, f.key)
			if f.val == "" {
				if f.required {
					v.missing(fp, `required: US dollars per million tokens, e.g. "2.50"`)
				}
				continue
			}
			if _, err := usage.ParseUSD(f.val); err != nil {
				v.bad(fp, "%s", strings.TrimPrefix(err.Error(), "usage: "))
			}
		}
	}
}

// httpURL checks an absolute http(s) URL without printing it (it may
// carry credentials), and reports whether it is one.
func (v *validator) httpURL(path, s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		v.bad(path, "must be an absolute http(s) URL")
		return false
	}
	return true
}

func (v *validator) positive(path string, n int) {
	if n <= 0 {
		v.bad(path, "must be greater than 0")
	}
}

func secretValues(m map[string]Secret) map[string]string {
	out := make(map[string]string, len(m))
	for k, s := range m {
		out[k] = s.Value()
	}
	return out
}
