package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/provider"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/vault"
)

// credPool holds the provider keys of the vault (store.Credential),
// opened once and kept in clear in memory only, and hands them to the
// adapters per request (provider.Credentials, one credSet per provider
// and selection). The request path never waits on the store and never
// decrypts: it loads every credential at start, applies changes made
// through this gateway's admin API at once (Apply, Remove), and picks up
// changes made elsewhere (another replica) every refresh interval. A key
// an upstream refuses (a 401, or an answer its adapter decodes as a
// refusal of the key, such as Gemini's 400 API_KEY_INVALID; never a
// permission 403) is disabled in memory at once, then in the store, logged
// and reported as a "credential.disabled" event.
type credPool struct {
	db    *store.DB
	vault *vault.Vault // nil: locked, every stored key is unusable
	log   *slog.Logger
	event func(store.Event) // alert events; never blocks

	mu sync.Mutex // serialises writers of rows, sets and the sets' snapshots
	// rows are the credentials by ID; only mu holders touch them.
	rows map[string]*credRow
	// sets are the per-provider sources handed to adapters, by provider
	// and selection; created on demand, never removed.
	sets map[credSetKey]*credSet
	// gen counts the changes applied outside refresh; a refresh whose
	// read began before one is discarded (the next one catches up).
	gen uint64
	// reported holds the credentials (ID and UpdatedAt) already reported
	// unusable, so each version is reported once.
	reported map[string]time.Time

	disables chan credDisable // store writes of refusals, drained by run
	kick     chan struct{}    // a refresh now (Kick); one pending is enough
	stop     chan struct{}    // closed once, by Close (stopOnce)
	stopOnce sync.Once
	done     chan struct{} // closed by run when it returns
}

// credRow is one credential as the pool holds it.
type credRow struct {
	c    store.Credential     // Sealed is dropped once opened
	cred *provider.Credential // the opened key; nil when unusable
	// problem says why an enabled credential is unusable; "" otherwise.
	problem string
}

type credSetKey struct {
	provider string
	weighted bool
}

// credDisable is a refusal to record in the store.
type credDisable struct {
	id, reason string
	version    time.Time // the UpdatedAt of the version refused
}

// credDisableQueue bounds the refusals waiting for their store write; more
// are dropped (the key stays disabled in memory, and is refused again
// after a restart).
const credDisableQueue = 64

// newCredPool loads every stored credential and starts the refresh loop
// (every refresh). v nil is a locked vault: stored keys are reported and
// not used. event receives alert events and must not block.
func newCredPool(ctx context.Context, db *store.DB, v *vault.Vault, log *slog.Logger, refresh time.Duration,
	event func(store.Event)) (*credPool, error) {
	p := &credPool{db: db, vault: v, log: log, event: event, rows: map[string]*credRow{},
		sets: map[credSetKey]*credSet{}, reported: map[string]time.Time{},
		disables: make(chan credDisable, credDisableQueue), kick: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	all, err := db.ListAllCredentials(ctx)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	for _, c := range all {
		p.rows[c.ID] = p.open(c)
	}
	p.reportUnusable()
	p.mu.Unlock()
	if v == nil && len(all) > 0 {
		log.Warn("provider keys: the vault holds keys but "+vault.EnvMasterKey+" is not set: they are not used, "+
			"providers send their configured api_key", "stored", len(all))
	}
	go p.run(refresh)
	return p, nil
}

// open returns the row for c with its key opened (once: the pool keeps
// the plaintext, never the request path). A key that cannot be opened
// leaves the row unusable with the reason.
func (p *credPool) open(c store.Credential) *credRow {
	r := &credRow{c: c}
	r.c.Sealed = nil
	switch {
	case p.vault == nil:
		r.problem = vault.EnvMasterKey + " is not set"
	default:
		key, err := p.vault.OpenCredential(c.ID, c.Provider, c.Sealed)
		switch {
		case err != nil && c.MasterID != "" && c.MasterID != p.vault.ID():
			r.problem = "sealed under another master key (" + c.MasterID + "; this one is " + p.vault.ID() + ")"
		case err != nil:
			r.problem = "it does not open under this master key: altered, or copied from another row"
		case !validKey(key):
			r.problem = "the opened key holds characters a header cannot carry"
		default:
			r.cred = provider.NewCredential(c.ID, key)
		}
	}
	return r
}

// validKey reports whether key can travel in a header.
func validKey(key string) bool {
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] == 0x7f {
			return false
		}
	}
	return key != ""
}

// usable reports whether r's key may be picked.
func (r *credRow) usable() bool { return r.cred != nil && !r.c.Disabled }

// reportUnusable logs, and sends an event for, every enabled credential
// that cannot be used, once per version; p.mu is held. Without a master
// key at all the one startup warning says it all.
func (p *credPool) reportUnusable() {
	for id, r := range p.rows {
		if r.problem == "" || r.c.Disabled || p.vault == nil {
			continue
		}
		if at, ok := p.reported[id]; ok && at.Equal(r.c.UpdatedAt) {
			continue
		}
		p.reported[id] = r.c.UpdatedAt
		p.log.Error("provider keys: a stored key cannot be used: "+r.problem,
			"credential", id, "provider", r.c.Provider, "name", r.c.Name, "last4", r.c.Last4)
		p.event(store.Event{Kind: "credential.unusable", Severity: store.SeverityCritical,
			Subject: "credential:" + id,
			Message: fmt.Sprintf("The stored key %q of provider %s cannot be used: %s.", r.c.Name, r.c.Provider, r.problem),
			Detail:  map[string]string{"provider": r.c.Provider, "name": r.c.Name, "last4": r.c.Last4}})
	}
}

// forProvider returns the source of provider's keys under selection (""
// is round robin), creating it on first use. A nil pool returns a nil
// interface: the adapter sends its configured key.
func (p *credPool) forProvider(name, selection string) provider.Credentials {
	if p == nil {
		return nil
	}
	k := credSetKey{provider: name, weighted: selection == config.KeyWeighted}
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.sets[k]
	if s == nil {
		s = &credSet{pool: p, provider: name, weighted: k.weighted}
		p.sets[k] = s
		s.rebuild(p.rows)
	}
	return s
}

// attachCredentials gives each provider of pcfgs its source of vault keys
// (cfg.Providers' key_selection; round robin for the mock). Without a
// store (no pool) it does nothing.
func (g *Gateway) attachCredentials(cfg *config.Config, pcfgs []provider.Config) {
	if g.creds == nil {
		return
	}
	sel := make(map[string]string, len(cfg.Providers))
	for _, p := range cfg.Providers {
		sel[p.Name] = p.KeySelection
	}
	for i := range pcfgs {
		pcfgs[i].Credentials = g.creds.forProvider(pcfgs[i].Name, sel[pcfgs[i].Name])
	}
}

// rebuildAll rebuilds every set's snapshot; p.mu is held.
func (p *credPool) rebuildAll() {
	for _, s := range p.sets {
		s.rebuild(p.rows)
	}
}

// rebuildProvider rebuilds the snapshots of name's sets; p.mu is held.
func (p *credPool) rebuildProvider(name string) {
	for k, s := range p.sets {
		if k.provider == name {
			s.rebuild(p.rows)
		}
	}
}

// Apply takes a credential created or changed through this gateway into
// the pool at once, opening its key: the next request uses it.
func (p *credPool) Apply(c store.Credential) {
	if p == nil {
		return
	}
	r := p.open(c)
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.rows[c.ID]
	p.rows[c.ID] = r
	p.gen++
	if old != nil && old.c.Provider != c.Provider {
		p.rebuildProvider(old.c.Provider)
	}
	p.rebuildProvider(c.Provider)
	p.reportUnusable()
}

// Remove drops a credential deleted through this gateway at once.
func (p *credPool) Remove(id string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.rows[id]
	if old == nil {
		return
	}
	delete(p.rows, id)
	delete(p.reported, id)
	p.gen++
	p.rebuildProvider(old.c.Provider)
}

// rejected disables c, which an upstream refused with status, at once in
// memory (the next request gets another key), logs and reports it, and
// queues the store write. A credential since replaced (rotated,
// re-enabled, deleted) or already disabled is left alone. It runs on the
// request path: it never waits on the store.
func (p *credPool) rejected(c *provider.Credential, status int) {
	reason := "the upstream answered HTTP " + strconv.Itoa(status) + " to this key"
	p.mu.Lock()
	r := p.rows[c.ID()]
	if r == nil || r.cred != c || r.c.Disabled {
		p.mu.Unlock()
		return
	}
	nr := *r // rows are replaced, never changed in place
	nr.c.Disabled, nr.c.DisabledReason = true, reason
	p.rows[c.ID()] = &nr
	p.gen++
	p.rebuildProvider(nr.c.Provider)
	left := 0
	for _, o := range p.rows {
		if o.c.Provider == nr.c.Provider && o.usable() {
			left++
		}
	}
	p.mu.Unlock()
	cr := nr.c
	p.log.Warn("provider keys: the upstream refused a stored key; it is disabled until re-enabled",
		"credential", cr.ID, "provider", cr.Provider, "name", cr.Name, "last4", cr.Last4, "status", status,
		"usable_left", left)
	sev, tail := store.SeverityWarning, strconv.Itoa(left)+" usable stored key(s) left"
	if left == 0 {
		sev, tail = store.SeverityCritical, "no usable stored key left: the configured api_key is sent"
	}
	p.event(store.Event{Kind: "credential.disabled", Severity: sev, Subject: "credential:" + cr.ID,
		Message: fmt.Sprintf("Provider %s refused the stored key %q (…%s) with HTTP %d; it is disabled, %s.",
			cr.Provider, cr.Name, cr.Last4, status, tail),
		Detail: map[string]string{"provider": cr.Provider, "name": cr.Name, "last4": cr.Last4,
			"status": strconv.Itoa(status), "usable_left": strconv.Itoa(left)}})
	select {
	case p.disables <- credDisable{id: cr.ID, reason: reason, version: r.c.UpdatedAt}:
	default:
		p.log.Error("provider keys: too many refusals waiting for the store; this one is kept in memory only",
			"credential", cr.ID)
	}
}

func (p *credPool) run(every time.Duration) {
	defer close(p.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			for {
				select {
				case d := <-p.disables:
					p.storeDisable(d)
				default:
					return
				}
			}
		case d := <-p.disables:
			p.storeDisable(d)
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), every+5*time.Second)
			p.refresh(ctx)
			cancel()
		case <-p.kick:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			p.refresh(ctx)
			cancel()
		}
	}
}

// Kick makes the refresh loop pick up credentials changed elsewhere now
// rather than at its next tick; it never blocks. Nil-safe.
func (p *credPool) Kick() {
	if p == nil {
		return
	}
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// storeDisable records a refusal in the store and takes the stored row
// (with its new UpdatedAt) into the pool.
func (p *credPool) storeDisable(d credDisable) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := p.db.DisableCredential(ctx, d.id, d.reason, d.version)
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict):
		return // deleted or changed since: the change wins
	case err != nil:
		p.log.Error("provider keys: recording a refused key failed; it stays disabled in memory",
			"credential", d.id, "error", err)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if r := p.rows[c.ID]; r != nil && r.c.Disabled && r.c.UpdatedAt.Equal(d.version) {
		nr := *r
		nr.c = c
		nr.c.Sealed = nil
		p.rows[c.ID] = &nr
	}
}

// refresh picks up credentials changed by anyone, opening only new and
// changed ones.
func (p *credPool) refresh(ctx context.Context) {
	p.mu.Lock()
	gen := p.gen
	p.mu.Unlock()
	all, err := p.db.ListAllCredentials(ctx)
	if err != nil {
		p.log.Warn("provider keys: refresh failed; using the keys known so far", "error", err)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gen != gen {
		p.Kick() // changed while reading: this list may be older than the change; read again
		return
	}
	seen := make(map[string]bool, len(all))
	dirty := false
	for _, c := range all {
		seen[c.ID] = true
		if old := p.rows[c.ID]; old != nil && old.c.UpdatedAt.Equal(c.UpdatedAt) && old.c.Provider == c.Provider {
			continue // unchanged (a refusal not yet stored stays)
		}
		p.rows[c.ID] = p.open(c)
		dirty = true
	}
	for id := range p.rows {
		if !seen[id] {
			delete(p.rows, id)
			delete(p.reported, id)
			dirty = true
		}
	}
	if dirty {
		p.rebuildAll()
		p.reportUnusable()
	}
}

// Close stops the refresh loop after writing the refusals still queued,
// and returns once it has ended. Nil-safe, idempotent and safe to call
// from several goroutines at once.
func (p *credPool) Close() {
	if p == nil {
		return
	}
	p.stopOnce.Do(func() { close(p.stop) })
	<-p.done
}

// credSet is the source of one provider's keys under one selection: a
// snapshot of the usable keys, swapped whole on every change, and a
// counter. Pick takes no lock and does not allocate.
type credSet struct {
	pool     *credPool
	provider string
	weighted bool
	snap     atomic.Pointer[credSnap]
	next     atomic.Uint64
}

var _ provider.Credentials = (*credSet)(nil)

// credSnap is an immutable list of usable keys.
type credSnap struct {
	creds []*provider.Credential
	// Weighted selection: cum holds the running sums of the weights
	// (total = the last), and stride spreads consecutive requests over
	// the cycle of total picks (coprime with total, so each cycle gives
	// every key exactly its weight in picks).
	cum    []uint64
	stride uint64
}

// goldenStride returns the step coprime with total nearest above
// total/φ: stepping through a cycle of total positions by it visits each
// once, and consecutive picks land far apart (no key picked many times
// running).
func goldenStride(total uint64) uint64 {
	st := max(uint64(float64(total)*0.6180339887498949+0.5), 1)
	for gcd(st, total) != 1 {
		st++
	}
	return st
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// rebuild makes a new snapshot from rows, oldest key first; the pool's mu
// is held.
func (s *credSet) rebuild(rows map[string]*credRow) {
	var list []*credRow
	for _, r := range rows {
		if r.c.Provider == s.provider && r.usable() {
			list = append(list, r)
		}
	}
	slices.SortFunc(list, func(a, b *credRow) int { // by creation: a stable turn order
		if c := a.c.CreatedAt.Compare(b.c.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.c.ID, b.c.ID)
	})
	sn := &credSnap{creds: make([]*provider.Credential, len(list))}
	var total uint64
	for i, r := range list {
		sn.creds[i] = r.cred
	}
	if s.weighted && len(list) > 0 {
		sn.cum = make([]uint64, len(list))
		for i, r := range list {
			total += uint64(max(r.c.Weight, 1))
			sn.cum[i] = total
		}
		sn.stride = 1
		if total < 1<<32 { // else (i % total) * stride could overflow
			sn.stride = goldenStride(total)
		}
	}
	s.snap.Store(sn)
}

// Pick returns the next usable key: in turn (round robin), or in
// proportion to the weights over every cycle of picks (weighted); nil
// when the provider has none.
func (s *credSet) Pick() *provider.Credential {
	sn := s.snap.Load()
	n := len(sn.creds)
	if n == 0 {
		return nil
	}
	i := s.next.Add(1) - 1
	if sn.cum == nil {
		return sn.creds[i%uint64(n)]
	}
	total := sn.cum[n-1]
	x := (i % total) * sn.stride % total
	lo, hi := 0, n-1
	for lo < hi { // the first running sum above x
		mid := int(uint(lo+hi) >> 1)
		if sn.cum[mid] > x {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return sn.creds[lo]
}

// Rejected disables c at once; see credPool.rejected.
func (s *credSet) Rejected(c *provider.Credential, status int) { s.pool.rejected(c, status) }

// providerNames lists the configured providers (the mock's included): the
// names a stored credential may be for.
func (g *Gateway) providerNames() []string {
	s := g.current()
	if s == nil {
		return nil
	}
	names := make([]string, 0, len(s.providerTypes))
	for name := range s.providerTypes {
		names = append(names, name)
	}
	return names
}

// credentialChanged takes a credential changed through the admin API into
// the pool at once.
func (g *Gateway) credentialChanged(c store.Credential, deleted bool) {
	if deleted {
		g.creds.Remove(c.ID)
		return
	}
	g.creds.Apply(c)
}
