package gateway

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/store"
)

// What /readyz lists under "degraded": parts that fail while the replica
// keeps serving.
const (
	// degradedLimits: the rate limits' Redis fails; checks use the local
	// share of each limit, or refuse (limits.on_redis_error).
	degradedLimits = "redis_limits"
	// degradedCache: the response cache's Redis fails; lookups miss.
	degradedCache = "redis_cache"
	// degradedStore: the store does not answer a ping, or the request
	// log cannot write to it and spools locally.
	degradedStore = "store"
)

// Bounds of the store ping behind /readyz: a load balancer polling often
// costs the database one ping a second, and a hung database one slow
// answer.
const (
	readyPingTTL     = time.Second
	readyPingTimeout = 500 * time.Millisecond
)

// storeProbe pings the store for /readyz at most once per readyPingTTL
// and remembers the answer. Safe for concurrent use.
type storeProbe struct {
	db  *store.DB // nil: no store, nothing to ping
	now func() time.Time

	mu      sync.Mutex // held across a ping: callers meanwhile wait for its answer
	checked time.Time  // when ok was taken; zero before the first ping
	ok      bool
}

func newStoreProbe(db *store.DB) *storeProbe {
	return &storeProbe{db: db, now: time.Now}
}

// healthy reports whether the store answered its latest ping, pinging it
// first when that answer is older than readyPingTTL. The ping does not
// end with ctx (a caller that leaves must not mark the store down).
func (s *storeProbe) healthy(ctx context.Context) bool {
	if s == nil || s.db == nil {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if now := s.now(); !s.checked.IsZero() && now.Sub(s.checked) < readyPingTTL && !now.Before(s.checked) {
		return s.ok
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readyPingTimeout)
	s.ok = s.db.Ping(pctx) == nil
	cancel()
	s.checked = s.now()
	return s.ok
}

// degraded lists the parts that fail while the gateway keeps serving, in
// a fixed order: redis_limits, redis_cache, store. Empty when all is well.
func (g *Gateway) degraded(ctx context.Context) []string {
	var out []string
	if g.limits != nil && g.limits.down.Load() {
		out = append(out, degradedLimits)
	}
	if g.cache != nil && g.cache.redis != nil && g.cache.downUntil.Load() != 0 {
		out = append(out, degradedCache)
	}
	if g.records.StoreDown() || !g.storeProbe.healthy(ctx) {
		out = append(out, degradedStore)
	}
	return out
}

// handleReady serves /readyz. It answers 503 {"status":"draining"} once
// shutdown has begun, so a load balancer stops sending new requests while
// in-flight ones finish. Otherwise it answers 200 — a replica whose Redis
// or store fails still serves — with what is degraded:
//
//	{"status":"ready"|"degraded","node":"…","degraded":["redis_limits","redis_cache","store"]}
//
// status is "degraded" exactly when the list is not empty.
func (g *Gateway) handleReady(w http.ResponseWriter, r *http.Request) {
	if g.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, appendReady(nil, "draining", g.node, nil))
		return
	}
	d := g.degraded(r.Context())
	status := "ready"
	if len(d) > 0 {
		status = "degraded"
	}
	writeJSON(w, http.StatusOK, appendReady(make([]byte, 0, 128), status, g.node, d))
}

// appendReady appends the /readyz body.
func appendReady(dst []byte, status, node string, degraded []string) []byte {
	dst = append(dst, '{')
	dst = jsonw.AppendString(jsonw.AppendKey(dst, "status"), status)
	dst = jsonw.AppendString(jsonw.AppendKey(dst, "node"), node)
	dst = append(jsonw.AppendKey(dst, "degraded"), '[')
	for i, d := range degraded {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonw.AppendString(dst, d)
	}
	return append(dst, ']', '}')
}
