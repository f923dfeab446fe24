package config

// Auth says who may call the gateway.
type Auth struct {
	// RequireKeys makes every /v1 and passthrough request present a
	// gateway key (Authorization: Bearer, x-api-key or api-key). Default
	// true for a config file; the embedded default (loopback only) turns
	// it off so a first curl works. With it off, a valid key that is
	// presented still identifies the caller (limits, logs).
	RequireKeys bool `yaml:"require_keys"`
	// KeyRefresh is how often key changes made elsewhere (another
	// replica, the CLI) are picked up. Changes through this gateway's
	// admin API apply at once. Default 2s.
	KeyRefresh Duration `yaml:"key_refresh"`
	// FailedPerMinute bounds failed key checks per client IP: past it,
	// every request from that address that presents a key gets 429 until
	// the count decays (one more attempt per 60s/N), valid keys included —
	// otherwise a 429-or-200 would tell a guesser which key is right.
	// Default 30; an explicit 0 switches it off.
	FailedPerMinute int `yaml:"failed_per_minute"`
	// JWT accepts JSON Web Tokens from an identity provider as an
	// alternative to gateway keys. Default: off.
	JWT JWT `yaml:"jwt"`
	// Spike throttles a key or address whose request rate jumps far above
	// its own baseline. Default: off.
	Spike Spike `yaml:"spike"`
}

// Store picks where the gateway keeps its state: request logs now; keys,
// tenants and audit later.
type Store struct {
	// Driver is "sqlite" (default: one file, nothing to install) or
	// "postgres" (shared by many replicas).
	Driver string `yaml:"driver"`
	// DSN is the SQLite file path (default "<server.data_dir>/sluice.db")
	// or a PostgreSQL URL, usually "${SLUICE_DATABASE_URL}". Required for
	// postgres. Redacted when printed.
	DSN Secret `yaml:"dsn"`
}

// RequestLog configures the per-request log: one record per request,
// written in batches off the request path.
type RequestLog struct {
	// Enabled records every /v1 and passthrough request. Default true.
	Enabled bool `yaml:"enabled"`
	// QueueSize bounds the records held in memory before the writer takes
	// them; beyond it records go straight to the spool file. Default 10000.
	QueueSize int `yaml:"queue_size"`
	// BatchSize is the most records one store write takes. Default 100:
	// with the embedded SQLite, a write is CPU in this process, and on a
	// single CPU requests wait out a large batch (measured: added p99 at
	// 1,000 rps went from ~8 ms with 500 to ~2.3 ms with 100).
	BatchSize int `yaml:"batch_size"`
	// FlushInterval is the longest a record waits in memory before it is
	// written; a crash (SIGKILL) loses at most this much. Default 1s.
	FlushInterval Duration `yaml:"flush_interval"`
	// WriteTimeout is how long a store write may take before its batch is
	// spooled to disk instead. Default 5s.
	WriteTimeout Duration `yaml:"write_timeout"`
	// RetryInterval is how often records spooled while the store was down
	// are retried. Default 5s.
	RetryInterval Duration `yaml:"retry_interval"`
	// Retention prunes old records in the background.
	Retention Retention `yaml:"retention"`
	// Payloads controls logging of request and response bodies.
	Payloads Payloads `yaml:"payloads"`
	// Export copies every record to other places.
	Export Export `yaml:"export"`
}

// Retention bounds the request log.
type Retention struct {
	// MaxAge deletes records older than this. Default 720h (30 days); an
	// explicit 0 keeps records forever.
	MaxAge Duration `yaml:"max_age"`
	// MaxRecords keeps at most this many records (the newest). Default 0:
	// no limit.
	MaxRecords int `yaml:"max_records"`
}

// Payloads controls body logging. Bodies are logged after guardrail
// redaction and capped at MaxBytes each.
type Payloads struct {
	// Enabled logs bodies of every request. Default false. A request can
	// switch it on or off for itself with the header
	// "x-sluice-log-payload: true|false".
	Enabled bool `yaml:"enabled"`
	// Routes logs bodies only on these paths (e.g. /v1/chat/completions),
	// when Enabled is false. Default none.
	Routes []string `yaml:"routes"`
	// MaxBytes caps each logged body. Default 65536.
	MaxBytes int `yaml:"max_bytes"`
}

// Export sends copies of the request log elsewhere, like Cloudflare's
// Logpush. Export is best effort with retries; the store is the record.
type Export struct {
	// File appends every record as a JSON line to this path. Default: off.
	File string `yaml:"file"`
	// Webhook posts batches of records as a JSON array.
	Webhook Webhook `yaml:"webhook"`
}

// Webhook is an HTTP endpoint receiving record batches.
type Webhook struct {
	// URL receives POSTs; empty switches the webhook off. Redacted when
	// printed: such URLs often carry a token.
	URL Secret `yaml:"url"`
	// Headers are sent with every POST (e.g. Authorization); values are
	// redacted when the config is printed.
	Headers map[string]Secret `yaml:"headers"`
	// BatchSize is the most records per POST. Default 100.
	BatchSize int `yaml:"batch_size"`
	// FlushInterval is the longest a record waits for its batch. Default 5s.
	FlushInterval Duration `yaml:"flush_interval"`
	// MaxRetries is how often a failed POST is retried (with backoff)
	// before the batch is given up for this webhook. Default 5.
	MaxRetries int `yaml:"max_retries"`
}

// Metrics configures the Prometheus endpoint /metrics.
type Metrics struct {
	// Enabled serves /metrics. Default true.
	Enabled bool `yaml:"enabled"`
	// PerKeyLabels adds a key_id label to request, token and cost series.
	// Default false: with many keys it multiplies the series.
	PerKeyLabels bool `yaml:"per_key_labels"`
}

// Tracing configures OpenTelemetry traces (OTLP over HTTP).
type Tracing struct {
	// Enabled exports a span per request and per upstream attempt.
	// Default false.
	Enabled bool `yaml:"enabled"`
	// Endpoint is the OTLP/HTTP collector, e.g. http://127.0.0.1:4318.
	// Required when enabled. Redacted when printed.
	Endpoint Secret `yaml:"endpoint"`
	// Headers are sent with every export (e.g. an API key); redacted when
	// printed.
	Headers map[string]Secret `yaml:"headers"`
	// ServiceName is the service.name resource attribute. Default "sluice".
	ServiceName string `yaml:"service_name"`
	// SampleRatio is the share of new traces kept, 0 to 1; a sampled
	// incoming traceparent is always followed. Default 1.
	SampleRatio float64 `yaml:"sample_ratio"`
}

// Price overrides or adds a model's price in the pricing catalog. Prices
// are US dollars per million tokens, written as decimals ("2.50"); they
// are read exactly, without floating point.
type Price struct {
	// Model is "provider/model" (one configured provider's model) or a
	// bare model name (that model at any provider). Required.
	Model string `yaml:"model"`
	// Input is the price of prompt tokens. Required.
	Input string `yaml:"input"`
	// Output is the price of completion tokens. Required.
	Output string `yaml:"output"`
	// CachedInput is the price of prompt tokens read from the provider's
	// cache. Default: Input.
	CachedInput string `yaml:"cached_input"`
	// CacheWrite is the price of prompt tokens written to the provider's
	// cache. Default: Input.
	CacheWrite string `yaml:"cache_write"`
	// PerRequest is a flat price per request, in dollars. Default 0.
	PerRequest string `yaml:"per_request"`
}
