// Package auth authenticates gateway callers: it mints, shapes and hashes
// gateway keys ("sk-sluice-…"), validates JWTs against JWKS or static public
// keys, and describes the authenticated caller as a Principal that carries the
// caller's tenant, team, role, model allowlist, limits and network allowlist.
// It holds no storage: looking a key hash up is the caller's job, and RBAC
// here answers only "may this role do that", not "on which team".
package auth
