-- Request logs: one row per request (store.Record), written once, never
-- updated. Times are microseconds since the Unix epoch. Ids use the "C"
-- collation so that pages (ordered by time, then id) come out in the same
-- byte order as on SQLite.
CREATE TABLE request_logs (
	id                 TEXT    COLLATE "C" NOT NULL PRIMARY KEY,
	time_us            BIGINT  NOT NULL,
	tenant_id          TEXT    NOT NULL DEFAULT '',
	team_id            TEXT    NOT NULL DEFAULT '',
	key_id             TEXT    NOT NULL DEFAULT '',
	client_ip          TEXT    NOT NULL DEFAULT '',
	route              TEXT    NOT NULL DEFAULT '',
	model_requested    TEXT    NOT NULL DEFAULT '',
	provider           TEXT    NOT NULL DEFAULT '',
	model              TEXT    NOT NULL DEFAULT '',
	attempts           BIGINT  NOT NULL DEFAULT 0,
	status             BIGINT  NOT NULL DEFAULT 0,
	error_code         TEXT    NOT NULL DEFAULT '',
	error_type         TEXT    NOT NULL DEFAULT '',
	stream             BOOLEAN NOT NULL DEFAULT FALSE,
	cache_status       TEXT    NOT NULL DEFAULT '',
	guardrails         TEXT,  -- JSON array of strings; NULL when none
	prompt_tokens      BIGINT  NOT NULL DEFAULT 0,
	completion_tokens  BIGINT  NOT NULL DEFAULT 0,
	cached_tokens      BIGINT  NOT NULL DEFAULT 0,
	cache_write_tokens BIGINT  NOT NULL DEFAULT 0,
	reasoning_tokens   BIGINT  NOT NULL DEFAULT 0,
	estimated          BOOLEAN NOT NULL DEFAULT FALSE,
	cost_micros        BIGINT  NOT NULL DEFAULT 0,
	saved_micros       BIGINT  NOT NULL DEFAULT 0,
	price_known        BOOLEAN NOT NULL DEFAULT FALSE,
	latency_us         BIGINT  NOT NULL DEFAULT 0,
	ttft_us            BIGINT  NOT NULL DEFAULT 0,
	request_body       BYTEA,  -- NULL when not logged
	response_body      BYTEA,
	payload_truncated  BOOLEAN NOT NULL DEFAULT FALSE,
	user_agent         TEXT    NOT NULL DEFAULT ''
);

-- Newest-first pages and time-range filters scan this backwards; pruning
-- scans it forwards.
CREATE INDEX request_logs_time ON request_logs (time_us, id);
-- One per equality filter, ending in the page order.
CREATE INDEX request_logs_tenant ON request_logs (tenant_id, time_us, id);
CREATE INDEX request_logs_team ON request_logs (team_id, time_us, id);
CREATE INDEX request_logs_key ON request_logs (key_id, time_us, id);
CREATE INDEX request_logs_provider ON request_logs (provider, time_us, id);
CREATE INDEX request_logs_model_requested ON request_logs (model_requested, time_us, id);
CREATE INDEX request_logs_model ON request_logs (model, time_us, id);
CREATE INDEX request_logs_status ON request_logs (status, time_us, id);

-- The client's metadata, one row per key; value is the JSON text form.
CREATE TABLE request_log_metadata (
	log_id TEXT COLLATE "C" NOT NULL REFERENCES request_logs (id) ON DELETE CASCADE,
	key    TEXT NOT NULL,
	value  TEXT NOT NULL,
	PRIMARY KEY (log_id, key)
);

CREATE INDEX request_log_metadata_key_value ON request_log_metadata (key, value);
