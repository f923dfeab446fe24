-- Issue 5's remaining state: limits, budgets and model lists on teams and
-- tenants (the same columns keys have), allowed regions on all three (a
-- JSON list, NULL = any), the provider-key vault, budget spend per period,
-- and alert events. Times are microseconds since the Unix epoch.
ALTER TABLE api_keys ADD COLUMN regions TEXT;

ALTER TABLE teams ADD COLUMN models TEXT;
ALTER TABLE teams ADD COLUMN regions TEXT;
ALTER TABLE teams ADD COLUMN rpm BIGINT NOT NULL DEFAULT 0;
ALTER TABLE teams ADD COLUMN tpm BIGINT NOT NULL DEFAULT 0;
ALTER TABLE teams ADD COLUMN max_concurrent BIGINT NOT NULL DEFAULT 0;
ALTER TABLE teams ADD COLUMN budget_micros BIGINT NOT NULL DEFAULT 0;
ALTER TABLE teams ADD COLUMN budget_period TEXT NOT NULL DEFAULT '';
ALTER TABLE teams ADD COLUMN budget_tz TEXT NOT NULL DEFAULT '';

ALTER TABLE tenants ADD COLUMN models TEXT;
ALTER TABLE tenants ADD COLUMN regions TEXT;
ALTER TABLE tenants ADD COLUMN rpm BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN tpm BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN max_concurrent BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN budget_micros BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN budget_period TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN budget_tz TEXT NOT NULL DEFAULT '';

-- Provider API keys, sealed with AES-256-GCM under the master key
-- (SLUICE_MASTER_KEY). sealed is nonce || ciphertext || tag; master_id
-- names the master key that sealed it (a fingerprint, never the key), so
-- a rotation of the master key can find what to re-seal. last4 is all an
-- API ever shows of the secret.
CREATE TABLE provider_credentials (
	id              TEXT    COLLATE "C" NOT NULL PRIMARY KEY,
	provider        TEXT    COLLATE "C" NOT NULL,
	name            TEXT    NOT NULL DEFAULT '',
	sealed          BYTEA    NOT NULL,
	master_id       TEXT    NOT NULL DEFAULT '',
	last4           TEXT    NOT NULL DEFAULT '',
	weight          BIGINT NOT NULL DEFAULT 1,
	disabled        BIGINT NOT NULL DEFAULT 0,
	disabled_reason TEXT    NOT NULL DEFAULT '',
	created_us      BIGINT NOT NULL,
	updated_us      BIGINT NOT NULL
);

CREATE INDEX provider_credentials_provider ON provider_credentials (provider, created_us, id);

-- Recorded spend per budget scope ('key', 'team', 'tenant') and period;
-- period_start_us is the period's first microsecond in the scope's time
-- zone, 0 for a lifetime ('total') budget. Replicas add to micros, never
-- overwrite it.
CREATE TABLE budget_spend (
	scope           TEXT    COLLATE "C" NOT NULL,
	scope_id        TEXT    COLLATE "C" NOT NULL,
	period_start_us BIGINT NOT NULL,
	micros          BIGINT NOT NULL DEFAULT 0,
	updated_us      BIGINT NOT NULL,
	PRIMARY KEY (scope, scope_id, period_start_us)
);

-- Alert events (budget soft limits, traffic spikes, disabled provider
-- keys…), appended, never updated.
CREATE TABLE events (
	id       BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	time_us  BIGINT NOT NULL,
	kind     TEXT    COLLATE "C" NOT NULL,
	severity TEXT    NOT NULL DEFAULT 'warning',
	subject  TEXT    COLLATE "C" NOT NULL DEFAULT '',
	message  TEXT    NOT NULL DEFAULT '',
	detail   TEXT
);

CREATE INDEX events_time ON events (time_us, id);
CREATE INDEX events_kind ON events (kind, time_us, id);
CREATE INDEX events_subject ON events (subject, time_us, id);
