package telemetry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/internal/store"
)

// WebhookConfig configures a WebhookExporter. Zero fields take the
// defaults named.
type WebhookConfig struct {
	// Name identifies the exporter in stats and logs (default "webhook");
	// it must be unique among a pipeline's exporters.
	Name string
	// URL receives POSTs; required, absolute http or https. It never
	// appears in errors or logs (it may carry a token).
	URL string
	// Headers are set on every request, e.g. Authorization. Their values
	// never appear in errors or logs.
	Headers map[string]string
	// BatchSize is the most records one POST carries (default 100).
	BatchSize int
	// FlushInterval is the longest records wait for a full batch
	// (default 1s).
	FlushInterval time.Duration
	// MaxRetries is how many times a batch is retried after a network
	// error, a 429 or a 5xx; 0 never retries (the config's default is 5).
	// After the last try the batch is dropped for this exporter and
	// counted as failed.
	MaxRetries int
	// Backoff is the wait before the first retry, doubled for each next
	// one up to 30s (default 500ms). A Retry-After header, in seconds or
	// as a date, replaces it, up to 60s.
	Backoff time.Duration
	// Timeout bounds one attempt, response included (default 10s).
	Timeout time.Duration
	// Client sends the requests; nil means http.DefaultClient.
	Client *http.Client
}

// Webhook retry limits.
const (
	maxWebhookBackoff    = 30 * time.Second
	maxWebhookRetryAfter = 60 * time.Second
)

// WebhookExporter POSTs records as a JSON array of records in the admin
// API's form, bodies included when they were logged (AppendRecord with
// bodies), with Content-Type application/json. A 2xx answer is success.
type WebhookExporter struct {
	cfg WebhookConfig
	// sleep waits d or until ctx ends; tests replace it to observe the
	// backoff without waiting.
	sleep func(ctx context.Context, d time.Duration) error
	now   func() time.Time
}

var (
	_ Exporter      = (*WebhookExporter)(nil)
	_ ExportBatcher = (*WebhookExporter)(nil)
)

// NewWebhookExporter validates cfg and applies its defaults.
func NewWebhookExporter(cfg WebhookConfig) (*WebhookExporter, error) {
	var errs []error
	if u, err := url.Parse(cfg.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, errors.New("url: must be an absolute http or https URL"))
	}
	for k := range cfg.Headers {
		if k == "" {
			errs = append(errs, errors.New("headers: empty name"))
		}
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"batch_size", int64(cfg.BatchSize)}, {"flush_interval", int64(cfg.FlushInterval)},
		{"max_retries", int64(cfg.MaxRetries)}, {"backoff", int64(cfg.Backoff)}, {"timeout", int64(cfg.Timeout)},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("%s: must not be negative", f.name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("telemetry: webhook exporter: %w", err)
	}
	if cfg.Name == "" {
		cfg.Name = "webhook"
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 100
	}
	if cfg.FlushInterval == 0 {
		cfg.FlushInterval = time.Second
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = 500 * time.Millisecond
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	return &WebhookExporter{cfg: cfg, sleep: sleepCtx, now: time.Now}, nil
}

// Name is WebhookConfig.Name.
func (e *WebhookExporter) Name() string { return e.cfg.Name }

// ExportBatching asks the pipeline for batches of BatchSize, waiting at
// most FlushInterval.
func (e *WebhookExporter) ExportBatching() (int, time.Duration) {
	return e.cfg.BatchSize, e.cfg.FlushInterval
}

// Export POSTs recs, BatchSize records per request, retrying each request
// as WebhookConfig says. It stops at the first request that fails for
// good and returns its error.
func (e *WebhookExporter) Export(ctx context.Context, recs []store.Record) error {
	var body []byte
	for i := 0; i < len(recs); i += e.cfg.BatchSize {
		chunk := recs[i:min(i+e.cfg.BatchSize, len(recs))]
		body = append(body[:0], '[')
		for j := range chunk {
			if j > 0 {
				body = append(body, ',')
			}
			body = AppendRecord(body, &chunk[j], true)
		}
		body = append(body, ']')
		if err := e.deliver(ctx, body); err != nil {
			return err
		}
	}
	return nil
}

// deliver sends one body with retries.
func (e *WebhookExporter) deliver(ctx context.Context, body []byte) error {
	for attempt := 0; ; attempt++ {
		retryAfter, retry, err := e.post(ctx, body)
		if err == nil {
			return nil
		}
		if !retry || attempt >= e.cfg.MaxRetries || ctx.Err() != nil {
			return fmt.Errorf("telemetry: webhook %s: attempt %d: %w", e.cfg.Name, attempt+1, err)
		}
		wait := min(e.cfg.Backoff<<attempt, maxWebhookBackoff)
		if e.cfg.Backoff<<attempt <= 0 { // overflowed
			wait = maxWebhookBackoff
		}
		if retryAfter >= 0 {
			wait = min(retryAfter, maxWebhookRetryAfter)
		}
		if err := e.sleep(ctx, wait); err != nil {
			return fmt.Errorf("telemetry: webhook %s: attempt %d: %w", e.cfg.Name, attempt+1, err)
		}
	}
}

// post makes one attempt. retry says whether the failure may pass;
// retryAfter is the server's Retry-After, or -1 when it sent none.
func (e *WebhookExporter) post(ctx context.Context, body []byte) (retryAfter time.Duration, retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return -1, false, errors.New("cannot build request") // URL was validated; keep it out of the error
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range e.cfg.Headers {
		req.Header.Set(k, v)
	}
	resp, err := e.cfg.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL
		}
		return -1, true, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, false, nil
	}
	err = fmt.Errorf("status %d", resp.StatusCode)
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode < 500 {
		return -1, false, err
	}
	return parseRetryAfter(resp.Header.Get("Retry-After"), e.now()), true, err
}

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP
// date. It returns -1 for an absent or unreadable value and 0 for a date
// in the past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return -1
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return -1
		}
		return time.Duration(min(s, int64(maxWebhookRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return -1
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
