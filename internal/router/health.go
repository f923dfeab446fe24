package router

import (
	"cmp"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// HealthConfig is how targets are judged. The zero value switches the
// breaker off and uses the default latency settings.
type HealthConfig struct {
	Breaker BreakerConfig
	// LatencyAlpha is the weight of a new latency sample in the decaying
	// average (0 < alpha <= 1); 0 means DefaultLatencyAlpha.
	LatencyAlpha float64
	// Explore is the share of least-latency requests sent first to a
	// target other than the fastest, so a recovered target is noticed
	// (0 <= explore <= 0.5).
	Explore float64
}

// Defaults of HealthConfig.
const (
	DefaultLatencyAlpha = 0.3
	DefaultExplore      = 0.05
)

// BreakerConfig configures the circuit breaker of every target.
type BreakerConfig struct {
	// Enabled switches the breaker on. Off, every target is always tried.
	Enabled bool
	// ConsecutiveFailures opens the breaker after that many failures in a
	// row; 0 disables this trigger.
	ConsecutiveFailures int
	// ErrorRate (0 < rate <= 1) opens the breaker when the share of failed
	// attempts over Window reaches it with at least MinRequests attempts;
	// 0 disables this trigger.
	ErrorRate   float64
	Window      time.Duration
	MinRequests int
	// Cooldown is how long an open breaker refuses traffic before it lets
	// HalfOpenProbes trial requests through (at least 1).
	Cooldown       time.Duration
	HalfOpenProbes int
}

// Breaker states, as TargetStatus.State and the sluice_breaker_state gauge.
const (
	StateClosed   = 0
	StateHalfOpen = 1
	StateOpen     = 2
)

// StateName is "closed", "half_open" or "open".
func StateName(s int) string {
	switch s {
	case StateOpen:
		return "open"
	case StateHalfOpen:
		return "half_open"
	}
	return "closed"
}

// maxDirectTargets bounds the targets tracked for "provider/model" names
// that are in no config (see Health.Target): past it, the least recently
// used idle one is evicted, so clients cannot grow the registry without
// bound and a busy real target is never left untracked for good.
const maxDirectTargets = 1024

// Health is the live state of every target (provider + upstream model):
// in-flight requests, decaying latency averages and a circuit breaker. It
// outlives routers: a config reload builds a new Router over the same
// Health, so breakers and averages carry over. Safe for concurrent use.
type Health struct {
	cfg atomic.Pointer[HealthConfig]
	now func() time.Time

	mu      sync.Mutex // guards additions, promotions and evictions
	targets sync.Map   // "provider/model" → *TargetHealth
	direct  int        // targets with direct set; guarded by mu
	// downs holds the providers an active health check found unreachable.
	downs sync.Map // provider name → *atomic.Bool
}

// NewHealth returns an empty registry. now is its clock; nil means
// time.Now.
func NewHealth(cfg HealthConfig, now func() time.Time) *Health {
	if now == nil {
		now = time.Now
	}
	h := &Health{now: now}
	h.Configure(cfg)
	return h
}

// Configure replaces the configuration (on reload); state is kept.
func (h *Health) Configure(cfg HealthConfig) {
	if cfg.LatencyAlpha <= 0 || cfg.LatencyAlpha > 1 {
		cfg.LatencyAlpha = DefaultLatencyAlpha
	}
	cfg.Explore = min(max(cfg.Explore, 0), 0.5)
	cfg.Breaker.HalfOpenProbes = max(cfg.Breaker.HalfOpenProbes, 1)
	h.cfg.Store(&cfg)
}

// Config returns the configuration in force.
func (h *Health) Config() HealthConfig { return *h.cfg.Load() }

// Target returns the state of provider/model, creating it. configured
// says the target is in the config (a virtual model's target, or a model
// its provider advertises); such targets are always tracked, and one first
// tracked as direct becomes configured. Other ("direct") targets are
// bounded by maxDirectTargets: at the bound the least recently used direct
// target with a closed breaker and nothing in flight is evicted, and when
// there is none Target returns nil (nil *TargetHealth methods are no-ops).
func (h *Health) Target(provider, model string, configured bool) *TargetHealth {
	key := provider + "/" + model
	if v, ok := h.targets.Load(key); ok && (!configured || !v.(*TargetHealth).direct.Load()) {
		return v.(*TargetHealth)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if v, ok := h.targets.Load(key); ok {
		t := v.(*TargetHealth)
		if configured && t.direct.Load() {
			t.direct.Store(false)
			h.direct--
		}
		return t
	}
	if !configured && h.direct >= maxDirectTargets && !h.evictDirect() {
		return nil
	}
	d, _ := h.downs.LoadOrStore(provider, new(atomic.Bool))
	t := &TargetHealth{reg: h, provider: provider, model: model, down: d.(*atomic.Bool)}
	t.used.Store(h.now().UnixNano())
	if !configured {
		t.direct.Store(true)
		h.direct++
	}
	h.targets.Store(key, t)
	return t
}

// lookup returns the state of provider/model if it is tracked, else nil.
func (h *Health) lookup(provider, model string) *TargetHealth {
	if v, ok := h.targets.Load(provider + "/" + model); ok {
		return v.(*TargetHealth)
	}
	return nil
}

// evictDirect drops the least recently used direct target that has a
// closed breaker and nothing in flight, and reports whether there was
// one; h.mu is held.
func (h *Health) evictDirect() bool {
	var victim *TargetHealth
	h.targets.Range(func(_, v any) bool {
		t := v.(*TargetHealth)
		if t.direct.Load() && t.inflight.Load() == 0 && t.state.Load() == StateClosed &&
			(victim == nil || t.used.Load() < victim.used.Load()) {
			victim = t
		}
		return true
	})
	if victim == nil {
		return false
	}
	h.targets.Delete(victim.provider + "/" + victim.model)
	victim.direct.Store(false)
	h.direct--
	return true
}

// SetProviderDown marks a provider unreachable (an active health check
// failed) or reachable again. Targets of a down provider are skipped like
// open breakers.
func (h *Health) SetProviderDown(provider string, down bool) {
	d, _ := h.downs.LoadOrStore(provider, new(atomic.Bool))
	d.(*atomic.Bool).Store(down)
}

// ProviderDown reports what SetProviderDown last said.
func (h *Health) ProviderDown(provider string) bool {
	d, ok := h.downs.Load(provider)
	return ok && d.(*atomic.Bool).Load()
}

// TargetStatus is a snapshot of one target's health.
type TargetStatus struct {
	Provider, Model string
	State           int // StateClosed, StateHalfOpen or StateOpen
	// ConsecutiveFailures is the current run of failures; Failures and
	// Successes count attempts since the process started.
	ConsecutiveFailures int
	Failures, Successes uint64
	// Opens counts how many times the breaker opened.
	Opens uint64
	// Latency and TTFT are the decaying averages (0: no sample yet).
	Latency, TTFT time.Duration
	InFlight      int64
	LastFailure   time.Time // zero: never
	OpenedAt      time.Time // zero unless open or half-open
	ProviderDown  bool
	// Direct is set for a target in no config, tracked because a client
	// named it as "provider/model" and it answered; metrics must not use
	// its model as a label.
	Direct bool
}

// Snapshot returns every tracked target, by provider then model.
func (h *Health) Snapshot() []TargetStatus {
	var out []TargetStatus
	h.targets.Range(func(_, v any) bool {
		out = append(out, v.(*TargetHealth).Status())
		return true
	})
	slices.SortFunc(out, func(a, b TargetStatus) int {
		return cmp.Or(cmp.Compare(a.Provider, b.Provider), cmp.Compare(a.Model, b.Model))
	})
	return out
}

// TargetHealth is one target's live state. Counters are atomics; the
// breaker's window and state changes take a short lock, never held across
// a call. A nil *TargetHealth is valid: always allowed, records nothing.
type TargetHealth struct {
	reg             *Health
	provider, model string
	down            *atomic.Bool
	direct          atomic.Bool  // counted in reg.direct; changed under reg.mu
	used            atomic.Int64 // unix nanos of creation or the last recorded outcome

	inflight  atomic.Int64
	latency   ewma
	ttft      ewma
	state     atomic.Int32
	openedAt  atomic.Int64 // unix nanos
	lastFail  atomic.Int64 // unix nanos; 0 never
	probes    atomic.Int32 // half-open trials in flight
	successes atomic.Uint64
	failures  atomic.Uint64
	opens     atomic.Uint64

	mu          sync.Mutex
	consecutive int
	window      [windowBuckets]bucket
}

const windowBuckets = 10

type bucket struct {
	slot     int64 // which window slice this bucket counts; reset when stale
	ok, fail int
}

// InFlight is the number of requests being served by the target.
func (t *TargetHealth) InFlight() int64 {
	if t == nil {
		return 0
	}
	return t.inflight.Load()
}

// State is the breaker state (StateClosed, StateHalfOpen, StateOpen).
func (t *TargetHealth) State() int {
	if t == nil {
		return StateClosed
	}
	return int(t.state.Load())
}

// Status returns a snapshot.
func (t *TargetHealth) Status() TargetStatus {
	t.mu.Lock()
	consecutive := t.consecutive
	t.mu.Unlock()
	s := TargetStatus{Provider: t.provider, Model: t.model, State: t.State(), ConsecutiveFailures: consecutive,
		Failures: t.failures.Load(), Successes: t.successes.Load(), Opens: t.opens.Load(),
		Latency: time.Duration(t.latency.value()), TTFT: time.Duration(t.ttft.value()),
		InFlight: t.inflight.Load(), ProviderDown: t.down.Load(), Direct: t.direct.Load()}
	if n := t.lastFail.Load(); n != 0 {
		s.LastFailure = time.Unix(0, n)
	}
	if s.State != StateClosed {
		s.OpenedAt = time.Unix(0, t.openedAt.Load())
	}
	return s
}

// score is the decaying average the least-latency strategy compares: time
// to first token for streams, whole latency otherwise, falling back to the
// other when one has no sample. 0 means never measured.
func (t *TargetHealth) score(stream bool) float64 {
	if t == nil {
		return 0
	}
	a, b := &t.latency, &t.ttft
	if stream {
		a, b = b, a
	}
	if v := a.value(); v > 0 {
		return v
	}
	return b.value()
}

// allow reports whether an attempt may go to the target now, and whether
// it is a half-open probe (whose outcome must then be recorded).
func (t *TargetHealth) allow() (ok, probe bool) {
	if t == nil {
		return true, false
	}
	if t.down.Load() {
		return false, false
	}
	cfg := &t.reg.cfg.Load().Breaker
	if !cfg.Enabled {
		return true, false
	}
	switch t.state.Load() {
	case StateClosed:
		return true, false
	case StateOpen:
		if t.reg.now().UnixNano()-t.openedAt.Load() < int64(cfg.Cooldown) {
			return false, false
		}
		t.mu.Lock()
		if t.state.Load() == StateOpen {
			t.probes.Store(0)
			t.state.Store(StateHalfOpen)
		}
		t.mu.Unlock()
	}
	if t.probes.Add(1) <= int32(cfg.HalfOpenProbes) {
		return true, true
	}
	t.probes.Add(-1)
	return false, false
}

// outcome is what an attempt says about the target's health.
type outcome uint8

const (
	outcomeNeutral outcome = iota // the target answered, but not usefully (a caller error) or we stopped it
	outcomeSuccess
	outcomeFailure
)

// record notes an attempt's outcome; took is its latency (to the first
// byte for streams). probe is what allow returned.
func (t *TargetHealth) record(o outcome, probe, stream bool, took time.Duration) {
	if t == nil {
		return
	}
	if probe {
		defer t.probes.Add(-1)
	}
	reg := t.reg
	cfg := reg.cfg.Load()
	switch o {
	case outcomeNeutral:
		return
	case outcomeSuccess:
		t.successes.Add(1)
		e := &t.latency
		if stream {
			e = &t.ttft
		}
		e.observe(float64(max(took, 1)), cfg.LatencyAlpha)
	case outcomeFailure:
		t.failures.Add(1)
	}
	now := reg.now().UnixNano()
	t.used.Store(now)
	if o == outcomeFailure {
		t.lastFail.Store(now)
	}
	b := &cfg.Breaker
	t.mu.Lock()
	defer t.mu.Unlock()
	bk := t.bucket(b.Window, now)
	if o == outcomeSuccess {
		bk.ok++
		t.consecutive = 0
		if t.state.Load() == StateHalfOpen {
			t.state.Store(StateClosed)
			t.window = [windowBuckets]bucket{}
		}
		return
	}
	bk.fail++
	t.consecutive++
	if !b.Enabled {
		return
	}
	switch t.state.Load() {
	case StateHalfOpen:
		t.trip(now)
	case StateClosed:
		if b.ConsecutiveFailures > 0 && t.consecutive >= b.ConsecutiveFailures || t.rateTripped(b, now) {
			t.trip(now)
		}
	}
}

// trip opens the breaker; t.mu is held.
func (t *TargetHealth) trip(now int64) {
	t.openedAt.Store(now)
	t.state.Store(StateOpen)
	t.opens.Add(1)
}

// bucket returns the window bucket for now, reset if stale; t.mu is held.
func (t *TargetHealth) bucket(window time.Duration, now int64) *bucket {
	width := int64(window) / windowBuckets
	if width <= 0 {
		width = int64(time.Second)
	}
	slot := now / width
	b := &t.window[slot%windowBuckets]
	if b.slot != slot {
		*b = bucket{slot: slot}
	}
	return b
}

// rateTripped reports whether the error rate over the window trips the
// breaker; t.mu is held.
func (t *TargetHealth) rateTripped(b *BreakerConfig, now int64) bool {
	if b.ErrorRate <= 0 {
		return false
	}
	width := int64(b.Window) / windowBuckets
	if width <= 0 {
		width = int64(time.Second)
	}
	oldest := now/width - windowBuckets + 1
	ok, fail := 0, 0
	for i := range t.window {
		if t.window[i].slot >= oldest {
			ok += t.window[i].ok
			fail += t.window[i].fail
		}
	}
	total := ok + fail
	return total > 0 && total >= b.MinRequests && float64(fail)/float64(total) >= b.ErrorRate
}

// ewma is a decaying average of durations in nanoseconds, updated
// lock-free; 0 means no sample yet.
type ewma struct{ bits atomic.Uint64 }

func (e *ewma) value() float64 { return math.Float64frombits(e.bits.Load()) }

func (e *ewma) observe(x, alpha float64) {
	for {
		old := e.bits.Load()
		v := math.Float64frombits(old)
		nv := x
		if v > 0 {
			nv = v + alpha*(x-v)
		}
		if e.bits.CompareAndSwap(old, math.Float64bits(nv)) {
			return
		}
	}
}
