package cache

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// MemoryIndexOptions configures a MemoryIndex. Zero fields take defaults.
type MemoryIndexOptions struct {
	// ExactLimit is how many vectors a scope holds before its searches
	// switch from an exact scan to an HNSW graph (semGraph), and back
	// below half of it. Default 10000: see defaultExactLimit.
	ExactLimit int
	// MaxPerScope bounds a scope: adding beyond it drops the scope's
	// oldest vector. Default 100000.
	MaxPerScope int
	// Now is the clock for expiry; default time.Now.
	Now func() time.Time
}

// defaultExactLimit is where exact search stops. Measured on the 2-core
// AMD EPYC this was written on (BenchmarkSearchExact, BenchmarkSearchHNSW,
// random unit vectors): the exact scan costs 66 ns per vector at 256
// dimensions and 410 ns at 1536 (0.67 ms and 4.1 ms for 10,000 vectors);
// the graph answers 10,000 vectors in 0.24 ms at 256 dimensions (0.08 ms
// for clustered vectors, which real embeddings are closer to) and 1.3 ms
// at 1536, and 50,000 at 256 in 0.67 ms (exact: 3.3 ms). By speed alone
// the crossover is near 3,500 vectors at either size. But the graph costs
// a background build (1.7 s of one core for 10,000 x 256, 13 s for 10,000
// x 1536, 28 s for 50,000 x 256), twice the memory (it keeps its own
// copies) and some recall: it answers a near-duplicate query with the
// vector it was made from 95-99.6% of the time at 10,000 random vectors,
// 81% at 50,000 random ones (clustered data: 99-100%); a miss costs an
// upstream call. Up to 10,000 vectors the exact scan stays under 1 ms at
// 256 dimensions and near 4 ms at 1536, fast enough to keep being exact;
// past it the graph is 3-5 times faster and the gap widens.
const (
	defaultExactLimit  = 10000
	defaultMaxPerScope = 100000
	// semSweepEvery is how often an Add also drops the expired vectors of
	// every scope (and the scopes left empty).
	semSweepEvery = time.Minute
	// semMaxExpiredHits bounds the expired vectors one Search removes.
	semMaxExpiredHits = 16
)

// MemoryIndex is an Index in process memory. Each scope keeps its unit
// vectors in one contiguous slab searched by a plain loop of dot products;
// past ExactLimit vectors a scope also gets an HNSW graph, built from the
// slab in the background (searches stay exact until it is ready) and
// then updated on every Add. Vectors whose dimensions differ from the
// scope's reset the scope on Add (the embedding model changed: the old
// vectors can no longer match) and miss on Search. Expired vectors are
// never returned; a Search removes those it meets as hits, and every
// minute an Add sweeps them all. Safe for concurrent use; Searches of one
// scope run in parallel.
type MemoryIndex struct {
	exactLimit  int
	maxPerScope int
	now         func() time.Time
	// inlineBuilds makes graph builds run in the goroutine that triggers
	// them (tests), instead of in the background.
	inlineBuilds bool

	mu        sync.RWMutex
	scopes    map[string]*semScope
	closed    atomic.Bool
	nextSweep atomic.Int64 // unix ns
	builds    sync.WaitGroup
}

// NewMemoryIndex returns an empty index configured by o.
func NewMemoryIndex(o MemoryIndexOptions) *MemoryIndex {
	m := &MemoryIndex{exactLimit: o.ExactLimit, maxPerScope: o.MaxPerScope, now: o.Now,
		scopes: make(map[string]*semScope)}
	if m.exactLimit <= 0 {
		m.exactLimit = defaultExactLimit
	}
	if m.maxPerScope <= 0 {
		m.maxPerScope = defaultMaxPerScope
	}
	if m.now == nil {
		m.now = time.Now
	}
	return m
}

// Search returns the key of the most similar live vector in scope and
// whether its similarity reaches min; sim is the best similarity found
// even when it does not (0 for an empty scope). A vector whose dimensions
// differ from the scope's is a miss, not an error; an invalid vector is
// an error wrapping ErrBadVector.
func (m *MemoryIndex) Search(ctx context.Context, scope string, vec []float32, min float32) (Key, float32, bool, error) {
	if m.closed.Load() {
		return Key{}, 0, false, ErrIndexClosed
	}
	if err := ctx.Err(); err != nil {
		return Key{}, 0, false, fmt.Errorf("cache: semantic search: %w", err)
	}
	norm, err := vectorNorm(vec)
	if err != nil {
		return Key{}, 0, false, fmt.Errorf("cache: semantic search: %w", err)
	}
	s := m.lookup(scope)
	if s == nil {
		return Key{}, 0, false, nil
	}
	now := m.now().UnixNano()
	s.mu.RLock()
	if s.dims != len(vec) || len(s.ids) == 0 {
		s.mu.RUnlock()
		return Key{}, 0, false, nil
	}
	i, sim, expired := s.search(vec, norm, now, min)
	var k Key
	ok := i >= 0 && sim >= min
	if ok {
		k = s.keys[i]
	}
	s.mu.RUnlock()
	if len(expired) > 0 {
		s.mu.Lock()
		s.dropExpired(expired, now)
		build := s.maintain(m)
		s.mu.Unlock()
		m.run(build)
	}
	return k, sim, ok, nil
}

// Add stores vec for k in scope until ttl, which must be positive, passes,
// replacing k's earlier vector.
func (m *MemoryIndex) Add(ctx context.Context, scope string, vec []float32, k Key, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("cache: semantic add: ttl %v is not positive", ttl)
	}
	return m.add(scope, vec, k, m.now().Add(ttl).UnixNano(), false)
}

// add stores vec for k in scope until exp (unix ns); an exp already past
// is ignored. With echo it does nothing when k is there with the same
// expiry to the millisecond: the stream replaying this index's own Add.
func (m *MemoryIndex) add(scope string, vec []float32, k Key, exp int64, echo bool) error {
	if m.closed.Load() {
		return ErrIndexClosed
	}
	norm, err := vectorNorm(vec)
	if err != nil {
		return fmt.Errorf("cache: semantic add: %w", err)
	}
	now := m.now().UnixNano()
	if exp <= now {
		return nil
	}
	unit := normalized(vec, norm)
	m.maybeSweep(now)
	for {
		s := m.scopeFor(scope)
		s.mu.Lock()
		if s.dead.Load() { // purged or swept since the lookup
			s.mu.Unlock()
			continue
		}
		if echo {
			if i, ok := s.byKey[k]; ok && s.expiry[i]/1e6 == exp/1e6 {
				s.mu.Unlock()
				return nil
			}
		}
		if s.dims != len(unit) {
			s.reset(len(unit))
		}
		s.put(k, unit, exp, m.maxPerScope)
		build := s.maintain(m)
		s.mu.Unlock()
		m.run(build)
		return nil
	}
}

// Remove drops k from scope; a key that is not there is no error.
func (m *MemoryIndex) Remove(ctx context.Context, scope string, k Key) error {
	if m.closed.Load() {
		return ErrIndexClosed
	}
	s := m.lookup(scope)
	if s == nil {
		return nil
	}
	s.mu.Lock()
	if i, ok := s.byKey[k]; ok {
		s.removeSlot(i)
	}
	build := s.maintain(m)
	s.mu.Unlock()
	m.run(build)
	return nil
}

// Purge drops every scope; graph builds in flight stop.
func (m *MemoryIndex) Purge(ctx context.Context) error {
	if m.closed.Load() {
		return ErrIndexClosed
	}
	m.purge()
	return nil
}

// Close drops everything and waits for graph builds to stop; the index
// must not be used after (its methods return ErrIndexClosed).
func (m *MemoryIndex) Close() error {
	if m.closed.CompareAndSwap(false, true) {
		m.purge()
		m.builds.Wait()
	}
	return nil
}

// Len returns how many vectors scope holds, counting expired ones not yet
// removed.
func (m *MemoryIndex) Len(scope string) int {
	s := m.lookup(scope)
	if s == nil {
		return 0
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.ids)
}

func (m *MemoryIndex) purge() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.scopes {
		s.dead.Store(true)
	}
	m.scopes = make(map[string]*semScope)
}

// lookup returns scope's state, or nil.
func (m *MemoryIndex) lookup(scope string) *semScope {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.scopes[scope]
}

// scopeFor returns scope's state, creating it.
func (m *MemoryIndex) scopeFor(scope string) *semScope {
	if s := m.lookup(scope); s != nil {
		return s
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.scopes[scope]
	if s == nil {
		s = &semScope{}
		m.scopes[scope] = s
	}
	return s
}

// run runs a graph build, if any: in the background unless inlineBuilds.
func (m *MemoryIndex) run(build func()) {
	switch {
	case build == nil:
	case m.inlineBuilds:
		build()
	default:
		m.builds.Add(1)
		go func() {
			defer m.builds.Done()
			build()
		}()
	}
}

// maybeSweep removes the expired vectors of every scope, and the scopes
// left empty, when semSweepEvery has passed since the last sweep.
func (m *MemoryIndex) maybeSweep(now int64) {
	next := m.nextSweep.Load()
	if now < next || !m.nextSweep.CompareAndSwap(next, now+int64(semSweepEvery)) {
		return
	}
	m.mu.RLock()
	all := make(map[string]*semScope, len(m.scopes))
	for name, s := range m.scopes {
		all[name] = s
	}
	m.mu.RUnlock()
	var empty []string
	for name, s := range all {
		s.mu.Lock()
		s.sweep(now)
		build := s.maintain(m)
		if len(s.ids) == 0 && !s.building {
			empty = append(empty, name)
		}
		s.mu.Unlock()
		m.run(build)
	}
	if len(empty) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, name := range empty {
		s := m.scopes[name]
		if s != all[name] {
			continue
		}
		s.mu.Lock()
		if len(s.ids) == 0 && !s.building {
			s.dead.Store(true)
			delete(m.scopes, name)
		}
		s.mu.Unlock()
	}
}

// Graph search parameters (see BenchmarkSearchHNSW for their effect on
// recall and speed).
const (
	semGraphEf         = 32 // candidates a graph search keeps
	semGraphCandidates = 16 // of which a Search rescores the best
	// semMinRebuild is the fewest dead graph nodes that justify a rebuild;
	// beyond it a rebuild starts when a third of the graph is dead (dead
	// nodes still route searches, they only cost time).
	semMinRebuild = 256
)

// semScope is one scope of a MemoryIndex: the vectors of slot i are
// vecs[i*dims:(i+1)*dims], with keys[i], ids[i] and expiry[i]. Removal
// swaps the last slot into the hole. All fields but dead are guarded by
// mu.
type semScope struct {
	mu sync.RWMutex
	// dead is set when the scope leaves its index (purge, sweep, close):
	// writers look the scope up again and builds stop.
	dead atomic.Bool

	dims   int
	vecs   []float32 // unit vectors
	keys   []Key
	ids    []uint64 // per slot: the id of the Add, increasing
	expiry []int64  // per slot: unix ns when the vector expires
	byKey  map[Key]int
	byID   map[uint64]int
	order  []uint64 // ids oldest first, with stale ones, skipped when met
	nextID uint64

	// graph, when not nil, holds every live id and graphDead others:
	// removals leave tombstones until a rebuild.
	graph     *semGraph
	graphDead int
	building  bool   // a graph build is running
	gen       uint64 // bumped by reset: a build of an older gen is dropped
}

// slot returns slot i's vector.
func (s *semScope) slot(i int) []float32 { return s.vecs[i*s.dims : (i+1)*s.dims : (i+1)*s.dims] }

// reset empties the scope and fixes its dimensions to dims.
func (s *semScope) reset(dims int) {
	s.dims, s.gen = dims, s.gen+1
	s.vecs, s.keys, s.ids, s.expiry, s.order = nil, nil, nil, nil, nil
	s.byKey, s.byID = make(map[Key]int), make(map[uint64]int)
	s.graph, s.graphDead, s.building = nil, 0, false
}

// put stores the unit vector unit (which it keeps) for k until exp,
// replacing k's vector or, at max vectors, dropping the oldest first.
func (s *semScope) put(k Key, unit []float32, exp int64, max int) {
	id := s.nextID
	s.nextID++
	if i, ok := s.byKey[k]; ok {
		delete(s.byID, s.ids[i])
		if s.graph != nil {
			s.graphDead++
		}
		copy(s.slot(i), unit)
		s.ids[i], s.expiry[i], s.byID[id] = id, exp, i
	} else {
		for len(s.ids) >= max && len(s.ids) > 0 {
			s.evictOldest()
		}
		i := len(s.ids)
		s.vecs = append(s.vecs, unit...)
		s.keys = append(s.keys, k)
		s.ids = append(s.ids, id)
		s.expiry = append(s.expiry, exp)
		s.byKey[k], s.byID[id] = i, i
	}
	s.order = append(s.order, id)
	if len(s.order) > 2*len(s.ids)+64 {
		live := s.order[:0:0]
		for _, id := range s.order {
			if _, ok := s.byID[id]; ok {
				live = append(live, id)
			}
		}
		s.order = live
	}
	if s.graph != nil {
		s.graph.Add(id, unit)
	}
}

// evictOldest removes the vector added longest ago.
func (s *semScope) evictOldest() {
	for len(s.order) > 0 {
		id := s.order[0]
		s.order = s.order[1:]
		if i, ok := s.byID[id]; ok {
			s.removeSlot(i)
			return
		}
	}
}

// removeSlot removes slot i, moving the last slot into it.
func (s *semScope) removeSlot(i int) {
	last := len(s.ids) - 1
	delete(s.byKey, s.keys[i])
	delete(s.byID, s.ids[i])
	if s.graph != nil {
		s.graphDead++
	}
	if i != last {
		copy(s.slot(i), s.slot(last))
		s.keys[i], s.ids[i], s.expiry[i] = s.keys[last], s.ids[last], s.expiry[last]
		s.byKey[s.keys[i]], s.byID[s.ids[i]] = i, i
	}
	s.vecs = s.vecs[:last*s.dims]
	s.keys, s.ids, s.expiry = s.keys[:last], s.ids[:last], s.expiry[:last]
}

// sweep removes every vector expired at now, and gives memory back when
// the slab is mostly empty.
func (s *semScope) sweep(now int64) {
	for i := 0; i < len(s.ids); {
		if s.expiry[i] <= now {
			s.removeSlot(i)
			continue
		}
		i++
	}
	if c := cap(s.keys); c > 1024 && c > 4*len(s.keys) {
		s.vecs = slices.Clone(s.vecs)
		s.keys, s.ids, s.expiry = slices.Clone(s.keys), slices.Clone(s.ids), slices.Clone(s.expiry)
	}
}

// dropExpired removes the vectors of ids that are expired at now.
func (s *semScope) dropExpired(ids []uint64, now int64) {
	for _, id := range ids {
		if i, ok := s.byID[id]; ok && s.expiry[i] <= now {
			s.removeSlot(i)
		}
	}
}

// maintain drops the graph of a scope that shrank below half of
// m.exactLimit, and returns a graph build to run (after unlocking) when
// the scope grew past it or a third of its graph is dead.
func (s *semScope) maintain(m *MemoryIndex) func() {
	n := len(s.ids)
	switch {
	case s.graph != nil && n < m.exactLimit/2:
		s.graph, s.graphDead = nil, 0
	case s.building:
	case s.graph == nil && n > m.exactLimit,
		s.graph != nil && s.graphDead >= semMinRebuild && s.graphDead > n/2:
		return s.startBuild(m)
	}
	return nil
}

// startBuild marks a build running and returns it: it copies the slab,
// builds a graph from the copy without holding the lock, then installs it
// after adding the vectors added meanwhile. It gives up when the scope
// dies or is reset.
func (s *semScope) startBuild(m *MemoryIndex) func() {
	s.building = true
	gen, dims := s.gen, s.dims
	snap, ids := slices.Clone(s.vecs), slices.Clone(s.ids)
	last := s.nextID - 1 // every live id up to last is in the copy
	return func() {
		g := newSemGraph()
		for i, id := range ids {
			if s.dead.Load() {
				return
			}
			g.Add(id, snap[i*dims:(i+1)*dims:(i+1)*dims])
		}
		s.mu.Lock()
		if s.dead.Load() || s.gen != gen {
			s.mu.Unlock()
			return
		}
		for i, id := range s.ids {
			if id > last {
				g.Add(id, slices.Clone(s.slot(i)))
			}
		}
		s.graph, s.graphDead, s.building = g, g.Len()-len(s.ids), false
		next := s.maintain(m)
		s.mu.Unlock()
		m.run(next)
	}
}

// search returns the slot of the most similar live vector to q (whose
// norm is qnorm) and its similarity, or -1, and the ids of expired
// vectors that would have been hits at min. It asks the graph when there
// is one, and scans the slab when there is not or when every candidate
// of the graph was dead or expired.
func (s *semScope) search(q []float32, qnorm float64, now int64, min float32) (int, float32, []uint64) {
	if s.graph != nil {
		if best, sim, expired := s.searchGraph(normalized(q, qnorm), now); best >= 0 {
			return best, sim, expired
		}
	}
	return s.searchExact(q, qnorm, now, min)
}

// searchExact scans every slot.
func (s *semScope) searchExact(q []float32, qnorm float64, now int64, min float32) (int, float32, []uint64) {
	best, bestDot := -1, float32(0)
	var expired []uint64
	inv := float32(1 / qnorm)
	for i, d := 0, s.dims; i < len(s.ids); i++ {
		dot := dotF32(q, s.vecs[i*d:(i+1)*d:(i+1)*d])
		if best >= 0 && dot <= bestDot {
			continue
		}
		if s.expiry[i] <= now {
			if dot*inv >= min && len(expired) < semMaxExpiredHits {
				expired = append(expired, s.ids[i])
			}
			continue
		}
		best, bestDot = i, dot
	}
	return best, clampSim(bestDot * inv), expired
}

// searchGraph rescores the graph's candidates for the unit vector q.
func (s *semScope) searchGraph(q []float32, now int64) (int, float32, []uint64) {
	best, bestSim := -1, float32(0)
	var expired []uint64
	for _, id := range s.graph.Search(q, semGraphCandidates, semGraphEf) {
		i, ok := s.byID[id]
		switch {
		case !ok:
		case s.expiry[i] <= now:
			expired = append(expired, id)
		default:
			if sim := dotF32(q, s.slot(i)); best < 0 || sim > bestSim {
				best, bestSim = i, sim
			}
		}
	}
	return best, clampSim(bestSim), expired
}

// clampSim keeps a rounding error from reporting a similarity above 1.
func clampSim(sim float32) float32 {
	return min(max(sim, -1), 1)
}
