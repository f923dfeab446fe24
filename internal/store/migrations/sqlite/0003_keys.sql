-- Tenants, teams, API keys (gateway and admin) and the audit log. Times
-- are microseconds since the Unix epoch, 0 for "never"; booleans are 0/1;
-- metadata and lists are JSON text, NULL when empty. Teams and keys name
-- their tenant and team by plain id (no foreign keys: '' is the default
-- tenant, which has no row); the store refuses to delete a tenant or team
-- that is still named.
CREATE TABLE tenants (
	id         TEXT    NOT NULL PRIMARY KEY,
	name       TEXT    NOT NULL UNIQUE,
	metadata   TEXT,
	created_us INTEGER NOT NULL,
	updated_us INTEGER NOT NULL,
	disabled   INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE teams (
	id         TEXT    NOT NULL PRIMARY KEY,
	tenant_id  TEXT    NOT NULL DEFAULT '',
	name       TEXT    NOT NULL,
	metadata   TEXT,
	created_us INTEGER NOT NULL,
	updated_us INTEGER NOT NULL,
	disabled   INTEGER NOT NULL DEFAULT 0,
	UNIQUE (tenant_id, name)
) STRICT;

-- One row per key. hash is the SHA-256 of the secret; prev_hash the
-- previous secret's during a rotation (NULL when none), accepted while
-- prev_until_us is in the future. role is '' for gateway keys.
CREATE TABLE api_keys (
	id             TEXT    NOT NULL PRIMARY KEY,
	name           TEXT    NOT NULL DEFAULT '',
	tenant_id      TEXT    NOT NULL DEFAULT '',
	team_id        TEXT    NOT NULL DEFAULT '',
	prefix         TEXT    NOT NULL DEFAULT '',
	hash           BLOB    NOT NULL,
	prev_hash      BLOB,
	prev_until_us  INTEGER NOT NULL DEFAULT 0,
	role           TEXT    NOT NULL DEFAULT '',
	models         TEXT,
	rpm            INTEGER NOT NULL DEFAULT 0,
	tpm            INTEGER NOT NULL DEFAULT 0,
	max_concurrent INTEGER NOT NULL DEFAULT 0,
	budget_micros  INTEGER NOT NULL DEFAULT 0,
	budget_period  TEXT    NOT NULL DEFAULT '',
	budget_tz      TEXT    NOT NULL DEFAULT '',
	allowed_cidrs  TEXT,
	metadata       TEXT,
	expires_us     INTEGER NOT NULL DEFAULT 0,
	created_us     INTEGER NOT NULL,
	updated_us     INTEGER NOT NULL,
	last_used_us   INTEGER NOT NULL DEFAULT 0,
	disabled       INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE UNIQUE INDEX api_keys_hash ON api_keys (hash);
CREATE UNIQUE INDEX api_keys_prev_hash ON api_keys (prev_hash) WHERE prev_hash IS NOT NULL;
-- Newest-first lists, whole and per tenant or team; cache refreshes.
CREATE INDEX api_keys_created ON api_keys (created_us, id);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_us, id);
CREATE INDEX api_keys_team ON api_keys (team_id, created_us, id);
CREATE INDEX api_keys_updated ON api_keys (updated_us, id);

-- What KeysChangedSince reports for a deleted key: one row per deleted
-- id, removed when a key with that id is created again.
CREATE TABLE api_key_tombstones (
	id         TEXT    NOT NULL PRIMARY KEY,
	tenant_id  TEXT    NOT NULL DEFAULT '',
	team_id    TEXT    NOT NULL DEFAULT '',
	hash       BLOB    NOT NULL,
	prev_hash  BLOB,
	deleted_us INTEGER NOT NULL
) STRICT;

CREATE INDEX api_key_tombstones_deleted ON api_key_tombstones (deleted_us, id);

-- Who did what to which object, appended, never updated. AUTOINCREMENT:
-- an id is never reused, even after the newest entries are deleted.
CREATE TABLE audit_log (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	time_us      INTEGER NOT NULL,
	actor        TEXT    NOT NULL DEFAULT '',
	actor_key_id TEXT    NOT NULL DEFAULT '',
	action       TEXT    NOT NULL DEFAULT '',
	target       TEXT    NOT NULL DEFAULT '',
	client_ip    TEXT    NOT NULL DEFAULT '',
	detail       TEXT
) STRICT;

-- Newest-first pages, and one per equality filter ending in page order.
CREATE INDEX audit_log_time ON audit_log (time_us, id);
CREATE INDEX audit_log_actor ON audit_log (actor, time_us, id);
CREATE INDEX audit_log_action ON audit_log (action, time_us, id);
CREATE INDEX audit_log_target ON audit_log (target, time_us, id);
