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

	mu     sync.Mutex           // serializes writers of keys and byHash
	keys   map[string]store.Key // by key ID; only mu holders touch it
	byHash atomic.Pointer[map[[sha256.Size]byte]*cachedKey]
	since  time.Time // store time of the last refresh

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
		stop: make(chan struct{}), done: make(chan struct{})}
	start := c.now()
	all, err := db.KeysChangedSince(ctx, time.Time{})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	for _, k := range all {
		c.keys[k.ID] = k
	}
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
	for _, k := range c.keys {
		if k.Disabled {
			continue
		}
		p := principalOf(k)
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
		Models: k.Models, RPM: k.RPM, TPM: k.TPM, MaxConcurrent: k.MaxConcurrent,
		BudgetMicros: k.BudgetMicros, BudgetPeriod: k.BudgetPeriod, BudgetTZ: k.BudgetTZ, Via: auth.ViaKey}
	for _, s := range k.AllowedCIDRs {
		if pfx, err := netip.ParsePrefix(s); err == nil {
			p.AllowedCIDRs = append(p.AllowedCIDRs, pfx)
		}
	}
	return p
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
		}
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
	c.mu.Lock()
	defer c.mu.Unlock()
	dirty := false
	for _, k := range changed {
		if old, ok := c.keys[k.ID]; !ok || !old.UpdatedAt.Equal(k.UpdatedAt) || old.Disabled != k.Disabled {
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
