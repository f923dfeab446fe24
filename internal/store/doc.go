// Package store persists Sluice's durable state in SQLite (the default, one
// file, WAL mode) or PostgreSQL (shared by replicas), applying embedded,
// versioned migrations when a database is opened. It holds the request-log
// table behind the Logs interface, the tenants, teams and API keys the
// gateway authenticates against, and the audit log of admin actions, with
// one query code path for both databases and a small dialect layer for the
// statements that differ.
package store
