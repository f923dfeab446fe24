package gateway

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/store"
)

// keyCache resolves presented keys to principals from memory: the request
// path never waits on the store. It loads every key at start, applies
// changes made through this gateway at once (Apply), and picks up changes
// made elsewhere (another replica, the CLI) every refresh interval. It
// also collects last-used times and writes them in batches.
type keyCache struct {
	db  *store.DB
	log *slog.Logger
	now func() time.Time

	mu   sync.Mutex           // serializes writers of keys, teams, tenants and byHash
	keys map[string]store.Key // by key ID; only mu holders touch it
	// scopes holds the teams and tenants whose policies and disabled
	// flags apply to their keys; written by mu holders, read without a
	// lock (Scope, on every JWT request).
	scopes atomic.Pointer[scopeSet]
	// scopeLoad serializes reading the teams and tenants from the store
	// with installing them, so an older read never replaces a newer one.
	scopeLoad sync.Mutex
	byHash    atomic.Pointer[map[[sha256.Size]byte]*cachedKey]
	since     time.Time // store time of the last refresh

	// kick asks the refresh loop for a refresh now (Kick); one pending
	// kick is enough.
	kick chan struct{}
	stop chan struct{}
	done chan struct{}
}

// cachedKey is one secret (a key's current or previous hash).
type cachedKey struct {
	principal auth.Principal
	expires   time.Time // zero: never
	// until bounds a previous secret's validity after a rotation; zero
	// for the current one.
	until time.Time
	// used is the last time (unix µs) the key authenticated, 0 once
	// written to the store.
	used atomic.Int64
}

// refreshOverlap re-reads changes this far back, since UpdatedAt comes
// from the clock of whichever process wrote the key.
const refreshOverlap = 5 * time.Second

func newKeyCache(ctx context.Context, db *store.DB, log *slog.Logger, refresh time.Duration) (*keyCache, error) {
	c := &keyCache{db: db, log: log, now: time.Now, keys: map[string]store.Key{},
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	start := c.now()
	all, err := db.KeysChangedSince(ctx, time.Time{})
	if err != nil {
		return nil, err
	}
	set, err := loadScopes(ctx, db)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	for _, k := range all {
		c.keys[k.ID] = k
	}
	c.scopes.Store(set)
	c.rebuild()
	c.since = start
	c.mu.Unlock()
	go c.run(refresh)
	return c, nil
}

// Apply takes a key changed through this gateway (created, updated,
// rotated, revoked, deleted as Disabled) into the cache at once, so a
// revoked key fails on the very next request.
func (c *keyCache) Apply(k store.Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.keys[k.ID] = k
	c.rebuild()
}

// rebuild makes a new hash index from c.keys; c.mu is held. Last-used
// times not yet written carry over.
func (c *keyCache) rebuild() {
	old := c.byHash.Load()
	idx := make(map[[sha256.Size]byte]*cachedKey, len(c.keys)+8)
	add := func(hash []byte, ck *cachedKey) {
		if len(hash) != sha256.Size {
			return
		}
		h := [sha256.Size]byte(hash)
		if old != nil {
			if prev := (*old)[h]; prev != nil {
				ck.used.Store(prev.used.Load())
			}
		}
		idx[h] = ck
	}
	scopes := c.scopes.Load()
	for _, k := range c.keys {
		team, tenant := scopes.teams[k.TeamID], scopes.tenants[k.TenantID]
		if k.Disabled || team.Disabled || tenant.Disabled {
			continue // a disabled team or tenant stops its keys
		}
		p := principalOf(k)
		p.Team, p.Tenant = limitsOf(&team.Policy), limitsOf(&tenant.Policy)
		add(k.Hash, &cachedKey{principal: p, expires: k.ExpiresAt})
		if len(k.PrevHash) > 0 && !k.PrevUntil.IsZero() {
			add(k.PrevHash, &cachedKey{principal: p, expires: k.ExpiresAt, until: k.PrevUntil})
		}
	}
	c.byHash.Store(&idx)
}

// principalOf is who a stored key speaks for.
func principalOf(k store.Key) auth.Principal {
	p := auth.Principal{KeyID: k.ID, TenantID: k.TenantID, TeamID: k.TeamID, Name: k.Name, Role: k.Role,
		Models: k.Models, Regions: k.Regions, RPM: k.RPM, TPM: k.TPM, MaxConcurrent: k.MaxConcurrent,
		BudgetMicros: k.BudgetMicros, BudgetPeriod: k.BudgetPeriod, BudgetTZ: k.BudgetTZ, Via: auth.ViaKey}
	for _, s := range k.AllowedCIDRs {
		if pfx, err := netip.ParsePrefix(s); err == nil {
			p.AllowedCIDRs = append(p.AllowedCIDRs, pfx)
		}
	}
	return p
}

// limitsOf is a team's or tenant's policy as the principal carries it.
func limitsOf(p *store.Policy) auth.Limits {
	return auth.Limits{Models: p.Models, Regions: p.Regions, RPM: p.RPM, TPM: p.TPM,
		MaxConcurrent: p.MaxConcurrent, BudgetMicros: p.BudgetMicros, BudgetPeriod: p.BudgetPeriod,
		BudgetTZ: p.BudgetTZ}
}

// scopeSet is every team and tenant by ID; never changed once stored.
type scopeSet struct {
	teams   map[string]store.Team
	tenants map[string]store.Tenant
}

// loadScopes reads every team and tenant.
func loadScopes(ctx context.Context, db *store.DB) (*scopeSet, error) {
	ts, err := db.ListAllTeams(ctx)
	if err != nil {
		return nil, err
	}
	ns, err := db.ListTenants(ctx)
	if err != nil {
		return nil, err
	}
	set := &scopeSet{teams: make(map[string]store.Team, len(ts)), tenants: make(map[string]store.Tenant, len(ns))}
	for _, t := range ts {
		set.teams[t.ID] = t
	}
	for _, t := range ns {
		set.tenants[t.ID] = t
	}
	return set, nil
}

// sameScopes reports whether two team (or tenant) maps hold the same
// versions of the same entries.
func sameScopes[T store.Team | store.Tenant](a, b map[string]T, updated func(T) time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for id, x := range a {
		y, ok := b[id]
		if !ok || !updated(x).Equal(updated(y)) {
			return false
		}
	}
	return true
}

// ReloadScopes re-reads every team and tenant and applies their changes
// to the keys at once; the admin API calls it after a team or tenant
// write, so a disabled team's keys fail on the next request.
func (c *keyCache) ReloadScopes(ctx context.Context) error {
	c.scopeLoad.Lock()
	defer c.scopeLoad.Unlock()
	set, err := loadScopes(ctx, c.db)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setScopes(set)
	return nil
}

// setScopes installs set, rebuilding the index if anything changed;
// c.mu is held.
func (c *keyCache) setScopes(set *scopeSet) {
	old := c.scopes.Load()
	if sameScopes(old.teams, set.teams, func(t store.Team) time.Time { return t.UpdatedAt }) &&
		sameScopes(old.tenants, set.tenants, func(t store.Tenant) time.Time { return t.UpdatedAt }) {
		return
	}
	c.scopes.Store(set)
	c.rebuild()
}

// Scope returns the settings of a team and a tenant, for a principal
// that did not come from a stored key (a JWT's claims name them), and
// whether either is disabled.
func (c *keyCache) Scope(teamID, tenantID string) (team, tenant auth.Limits, disabled bool) {
	set := c.scopes.Load()
	tm, tn := set.teams[teamID], set.tenants[tenantID]
	return limitsOf(&tm.Policy), limitsOf(&tn.Policy), tm.Disabled || tn.Disabled
}

// Resolve returns the principal of a presented secret, or false for a
// secret that is unknown, revoked, expired or past its rotation grace:
// the caller cannot tell which (one generic 401).
func (c *keyCache) Resolve(secret string) (*auth.Principal, bool) {
	if _, ok := auth.ParseKey(secret); !ok {
		return nil, false
	}
	ck := (*c.byHash.Load())[sha256.Sum256([]byte(secret))]
	if ck == nil {
		return nil, false
	}
	now := c.now()
	if !ck.expires.IsZero() && !now.Before(ck.expires) || !ck.until.IsZero() && !now.Before(ck.until) {
		return nil, false
	}
	ck.used.Store(now.UnixMicro())
	return &ck.principal, true
}

// ResolveAdmin is Resolve for the admin API: only keys with a role.
func (c *keyCache) ResolveAdmin(token string) (auth.Principal, bool) {
	p, ok := c.Resolve(token)
	if !ok || p.Role == "" {
		return auth.Principal{}, false
	}
	return *p, true
}

func (c *keyCache) run(every time.Duration) {
	defer close(c.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			c.flushUsed(context.Background())
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), every+5*time.Second)
			c.refresh(ctx)
			c.flushUsed(ctx)
			cancel()
		case <-c.kick:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			c.refresh(ctx)
			cancel()
		}
	}
}

// Kick makes the refresh loop pick up changes made elsewhere (keys,
// teams and tenants) now rather than at its next tick; it never blocks.
// Kicks that arrive during a refresh make one more.
func (c *keyCache) Kick() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// refresh picks up keys changed by anyone since the last refresh.
func (c *keyCache) refresh(ctx context.Context) {
	start := c.now()
	changed, err := c.db.KeysChangedSince(ctx, c.since.Add(-refreshOverlap))
	if err != nil {
		c.log.Warn("gateway keys: refresh failed; serving the keys known so far", "error", err)
		return
	}
	c.scopeLoad.Lock()
	defer c.scopeLoad.Unlock()
	set, err := loadScopes(ctx, c.db)
	if err != nil {
		c.log.Warn("gateway keys: refresh of teams and tenants failed; serving those known so far", "error", err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setScopes(set)
	dirty := false
	for _, k := range changed {
		// Only a newer version: Apply may have installed a change made
		// after this refresh read the store.
		if old, ok := c.keys[k.ID]; !ok || k.UpdatedAt.After(old.UpdatedAt) ||
			k.UpdatedAt.Equal(old.UpdatedAt) && k.Disabled && !old.Disabled {
			c.keys[k.ID] = k
			dirty = true
		}
	}
	if dirty {
		c.rebuild()
	}
	c.since = start
}

// flushUsed writes last-used times collected since the last flush.
func (c *keyCache) flushUsed(ctx context.Context) {
	used := map[string]time.Time{}
	for _, ck := range *c.byHash.Load() {
		if us := ck.used.Swap(0); us != 0 {
			if t := time.UnixMicro(us); t.After(used[ck.principal.KeyID]) {
				used[ck.principal.KeyID] = t
			}
		}
	}
	if len(used) == 0 {
		return
	}
	if err := c.db.TouchKeys(ctx, used); err != nil {
		c.log.Warn("gateway keys: recording last use failed", "error", err)
	}
}

// Close stops the refresh loop after a last write of last-used times.
func (c *keyCache) Close() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	<-c.done
}
