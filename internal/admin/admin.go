package admin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/vault"
)

// Prefix is the path the admin API serves under; mount New's handler at
// Prefix + "/" (it matches full paths, so no http.StripPrefix).
const Prefix = "/admin/v1"

// Options configure the admin API.
type Options struct {
	// Logs is where records and usage are read from. Required.
	Logs store.Logs
	// Store holds tenants, teams, keys and the audit log. Nil leaves the
	// /keys, /tenants, /teams and /audit endpoints out (404).
	Store *store.DB
	// AdminKey is the bootstrap owner token (SLUICE_ADMIN_KEY), presented
	// as "Authorization: Bearer <AdminKey>". Empty disables it; with
	// Resolve nil too, every request gets 401 saying SLUICE_ADMIN_KEY is
	// not set.
	AdminKey string
	// Resolve maps a presented token to the principal of a stored admin
	// key (one with a Role), or false for anything else; the gateway
	// passes its key cache. Principals without a Role are refused here
	// too. Nil: only AdminKey authenticates.
	Resolve func(token string) (auth.Principal, bool)
	// KeyChanged is called, after the store has the change, with every key
	// created, updated, rotated or revoked (a deleted key comes with
	// Disabled set), so the gateway's cache sees it at once. It runs on
	// the request's goroutine and must not block. Nil: not called.
	KeyChanged func(store.Key)
	// ScopesChanged is called after a team or tenant was created,
	// updated or deleted, so the gateway re-reads their policies and
	// disabled flags at once. Its error is logged, not returned (the
	// periodic refresh catches up). Nil: not called.
	ScopesChanged func(ctx context.Context) error
	// Vault seals the provider keys POST and PATCH /credentials store;
	// nil (no SLUICE_MASTER_KEY) refuses those writes with 503
	// "vault_locked", while reads still work.
	Vault *vault.Vault
	// ProviderNames returns the configured provider names, the only ones
	// a credential may name. Nil: none (every credential is refused).
	ProviderNames func() []string
	// CredentialChanged is called, after the store has the change, with
	// every credential created, updated or rotated (deleted true when it
	// was deleted), so the gateway's key pool sees it at once. It runs on
	// the request's goroutine and must not block for long. Nil: not called.
	CredentialChanged func(c store.Credential, deleted bool)
	// Health returns the providers with the live health of their targets
	// (breakers, latency, in-flight) for GET /providers; it is called on
	// each request and must be safe for concurrent use. Nil: the endpoint
	// lists nothing.
	Health func() []ProviderHealth
	// Cache purges the response cache for DELETE /cache; nil leaves the
	// endpoints out (404): no cache is configured.
	Cache CachePurger
	// Logger receives store failures (the cause of every 500), refused
	// authentications and audit write failures, never a presented token
	// or a key secret. Nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock for default time ranges, expiry checks, rotation
	// grace periods and audit times. Nil means time.Now.
	Now func() time.Time
}

// server is the admin API's http.Handler.
type server struct {
	logs       store.Logs
	db         *store.DB // nil: no key, tenant, team or audit endpoints
	auth       authenticator
	keyChanged func(store.Key)
	health     func() []ProviderHealth
	cache      CachePurger
	creds      credentialOptions
	scopes     func(ctx context.Context) error
	log        *slog.Logger
	now        func() time.Time
	mux        *http.ServeMux
	// registered lists "METHOD /path" (path relative to Prefix, as given
	// to handle) for every endpoint routes registered, in order; the
	// OpenAPI test compares it with openapi.json.
	registered []string
}

var _ http.Handler = (*server)(nil)

// New returns the admin API handler. It serves only paths under Prefix
// (anything else is a 404 JSON error); the caller mounts it at Prefix+"/".
// Every request is authenticated before it is routed, so an unauthenticated
// client learns nothing about which paths exist.
func New(opts Options) (http.Handler, error) {
	if opts.Logs == nil {
		return nil, errors.New("admin: Options.Logs is nil")
	}
	s := &server{
		logs:       opts.Logs,
		db:         opts.Store,
		auth:       newAuthenticator(opts.AdminKey, opts.Resolve),
		keyChanged: opts.KeyChanged,
		health:     opts.Health,
		cache:      opts.Cache,
		creds:      credentialOptions{vault: opts.Vault, providers: opts.ProviderNames, changed: opts.CredentialChanged},
		scopes:     opts.ScopesChanged,
		log:        opts.Logger,
		now:        opts.Now,
		mux:        http.NewServeMux(),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.keyChanged == nil {
		s.keyChanged = func(store.Key) {}
	}
	if s.creds.changed == nil {
		s.creds.changed = func(store.Credential, bool) {}
	}
	if s.scopes == nil {
		s.scopes = func(context.Context) error { return nil }
	}
	s.routes()
	return s, nil
}

// routes registers every endpoint: one resource per path, endpoints by
// method. A write's endpoint names the action its audit entries record.
func (s *server) routes() {
	s.handle("/logs", methods{"GET": {h: s.handleLogs}})
	s.handle("/logs/{id...}", methods{"GET": {h: s.handleLog}})
	s.handle("/usage", methods{"GET": {h: s.handleUsage}})
	s.handle("/providers", methods{"GET": {h: s.handleProviders}})
	s.handle("/openapi.json", methods{"GET": {h: s.serveOpenAPI}})
	if s.db != nil {
		s.handle("/keys", methods{"GET": {h: s.listKeys}, "POST": {action: "key.create", h: s.createKey}})
		s.handle("/keys/{id}", methods{"GET": {h: s.getKey},
			"PATCH": {action: "key.update", h: s.updateKey}, "DELETE": {action: "key.revoke", h: s.revokeKey}})
		s.handle("/keys/{id}/rotate", methods{"POST": {action: "key.rotate", h: s.rotateKey}})
		s.handle("/tenants", methods{"GET": {h: s.listTenants}, "POST": {action: "tenant.create", h: s.createTenant}})
		s.handle("/tenants/{id}", methods{"GET": {h: s.getTenant},
			"PATCH": {action: "tenant.update", h: s.updateTenant}, "DELETE": {action: "tenant.delete", h: s.deleteTenant}})
		s.handle("/teams", methods{"GET": {h: s.listTeams}, "POST": {action: "team.create", h: s.createTeam}})
		s.handle("/teams/{id}", methods{"GET": {h: s.getTeam},
			"PATCH": {action: "team.update", h: s.updateTeam}, "DELETE": {action: "team.delete", h: s.deleteTeam}})
		s.handle("/audit", methods{"GET": {h: s.handleAudit}})
		s.handle("/budgets", methods{"GET": {h: s.getBudget}})
		s.handle("/events", methods{"GET": {h: s.handleEvents}})
		s.handle("/credentials", methods{"GET": {h: s.listCredentials},
			"POST": {action: "credential.create", h: s.createCredential}})
		s.handle("/credentials/{id}", methods{"GET": {h: s.getCredential},
			"PATCH":  {action: "credential.update", h: s.updateCredential},
			"DELETE": {action: "credential.delete", h: s.deleteCredential}})
	}
	if s.cache != nil {
		s.handle("/cache", methods{"DELETE": {action: "cache.purge", h: s.purgeCache}})
		s.handle("/cache/{id}", methods{"DELETE": {action: "cache.purge", h: s.purgeCacheKey}})
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, notFound(r))
	})
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p, err := s.auth.authenticate(r)
	if err != nil {
		s.log.WarnContext(r.Context(), "admin: request refused",
			"method", r.Method, "path", r.URL.Path, "remote_addr", r.RemoteAddr, "reason", err.Err)
		if action := s.writeAction(r); action != "" {
			s.auditDenied(r, nil, action, idFromPath(r.URL.Path), err.Status)
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="sluice-admin"`)
		s.writeError(w, r, err)
		return
	}
	s.mux.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), p)))
}

// scopesChanged tells the gateway a team or tenant changed.
func (s *server) scopesChanged(ctx context.Context) {
	if err := s.scopes(ctx); err != nil {
		s.log.Warn("admin: reloading teams and tenants into the key cache failed", "error", err)
	}
}
