package limit

import (
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// SpikeConfig configures a SpikeDetector.
type SpikeConfig struct {
	// Factor is how many times its baseline a window's count must exceed
	// to be a spike; > 1.
	Factor float64
	// Window is the span requests are counted over; > 0.
	Window time.Duration
	// Baseline is the span the usual count per window is averaged over,
	// as an exponentially weighted moving average with weight
	// Window/Baseline per window; at least 2 windows. No spike trips
	// before Baseline has passed since NewSpikeDetector: baselines are
	// being learnt (a restart forgets them all).
	Baseline time.Duration
	// MinRequests is the least count in one window that can be a spike,
	// however low the baseline; ≥ 1.
	MinRequests int64
	// Cooldown is how long a subject stays throttled once it trips; > 0.
	Cooldown time.Duration
	// MaxSubjects bounds the subjects tracked; the least recently seen is
	// forgotten past it (it starts again without a baseline). 0 = 65,536.
	MaxSubjects int
	// Now is the clock; nil = time.Now. Time is measured from the first
	// reading with time.Time.Sub, so the monotonic clock makes wall-clock
	// jumps harmless.
	Now func() time.Time
}

// Spike is a SpikeDetector's verdict on one request.
type Spike struct {
	// Throttled says the request must be refused: the subject is in a
	// cool-down, started by this request or an earlier one.
	Throttled bool
	// RetryAfter is what is left of the cool-down when Throttled.
	RetryAfter time.Duration
	// Tripped is true for exactly one request per cool-down: the one that
	// started it, so that the caller reports the spike once.
	Tripped bool
	// Count and Baseline are, when Tripped, the requests counted in the
	// current window and the baseline they were compared to (requests
	// per window; 0 for a subject without history).
	Count    int64
	Baseline float64
}

// SpikeDetector finds subjects (API keys, client addresses) whose request
// rate jumps far above their own recent level: a window whose count
// reaches MinRequests and exceeds Factor × the subject's baseline trips
// a cool-down during which every request of the subject is throttled.
// Throttled requests are not counted, so a spike does not teach the
// baseline that spiking is normal.
//
// Hit costs a map lookup under one of 32 shard locks and a few atomic
// operations; memory is bounded by MaxSubjects. It is safe for
// concurrent use.
type SpikeDetector struct {
	factor   float64
	window   int64 // ns
	alpha    float64
	keep     float64 // 1 - alpha
	min      int64
	cooldown int64 // ns
	warmUp   int64 // ns since base before anything trips
	now      func() time.Time
	base     time.Time
	seed     maphash.Seed
	shards   [spikeShards]spikeShard
}

const (
	spikeShards      = 32
	defaultSubjects  = 1 << 16
	baselineUnsetBit = math.MaxUint64 // a NaN's bits: no window completed yet
)

type spikeShard struct {
	mu   sync.Mutex
	subj *simplelru.LRU[string, *spikeState]
	_    [48]byte // keep neighbouring shards' locks off one cache line
}

// spikeState is one subject's counters, updated with atomics only.
type spikeState struct {
	// win holds the current window's number (high 32 bits; 0 = none yet)
	// and the requests counted in it (low 32 bits).
	win atomic.Uint64
	// base is the baseline (math.Float64bits), baselineUnsetBit before
	// the first window completes.
	base atomic.Uint64
	// until is the end of the cool-down in ns since the detector's base;
	// 0 when none ever started.
	until atomic.Int64
	// tripped is the number of the window whose count last tripped a
	// cool-down: that count is not folded into the baseline.
	tripped atomic.Uint32
}

// NewSpikeDetector checks cfg and returns a detector with no history.
func NewSpikeDetector(cfg SpikeConfig) (*SpikeDetector, error) {
	var errs []error
	if !(cfg.Factor > 1) {
		errs = append(errs, errors.New("factor must be greater than 1"))
	}
	if cfg.Window <= 0 {
		errs = append(errs, errors.New("window must be positive"))
	}
	if cfg.Baseline < 2*cfg.Window {
		errs = append(errs, errors.New("baseline must be at least two windows"))
	}
	if cfg.MinRequests < 1 {
		errs = append(errs, errors.New("min requests must be at least 1"))
	}
	if cfg.Cooldown <= 0 {
		errs = append(errs, errors.New("cooldown must be positive"))
	}
	if cfg.MaxSubjects < 0 {
		errs = append(errs, errors.New("max subjects must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("limit: spike detector: %w", err)
	}
	if cfg.MaxSubjects == 0 {
		cfg.MaxSubjects = defaultSubjects
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	alpha := float64(cfg.Window) / float64(cfg.Baseline)
	d := &SpikeDetector{factor: cfg.Factor, window: int64(cfg.Window), alpha: alpha, keep: 1 - alpha,
		min: cfg.MinRequests, cooldown: int64(cfg.Cooldown), warmUp: int64(cfg.Baseline),
		now: cfg.Now, base: cfg.Now(), seed: maphash.MakeSeed()}
	per := max(1, (cfg.MaxSubjects+spikeShards-1)/spikeShards)
	for i := range d.shards {
		d.shards[i].subj, _ = simplelru.NewLRU[string, *spikeState](per, nil) // fails only for size ≤ 0
	}
	return d, nil
}

// state returns subject's counters, making them on first sight.
func (d *SpikeDetector) state(subject string) *spikeState {
	sh := &d.shards[maphash.String(d.seed, subject)%spikeShards]
	sh.mu.Lock()
	s, ok := sh.subj.Get(subject)
	if !ok {
		s = &spikeState{}
		s.base.Store(baselineUnsetBit)
		sh.subj.Add(subject, s)
	}
	sh.mu.Unlock()
	return s
}

// Hit counts one request of subject and says whether to throttle it.
func (d *SpikeDetector) Hit(subject string) Spike {
	s := d.state(subject)
	now := int64(d.now().Sub(d.base))
	if u := s.until.Load(); now < u {
		return Spike{Throttled: true, RetryAfter: time.Duration(u - now)}
	}
	w := uint32(now/d.window) + 1
	var count uint32
	for {
		old := s.win.Load()
		ow, oc := uint32(old>>32), uint32(old)
		if ow >= w { // this window, or a later one a concurrent caller already opened
			if s.win.CompareAndSwap(old, old+1) {
				count = oc + 1
				break
			}
			continue
		}
		if s.win.CompareAndSwap(old, uint64(w)<<32|1) {
			if ow != 0 {
				d.fold(s, oc, w-ow, s.tripped.Load() == ow)
			}
			count = 1
			break
		}
	}
	if int64(count) < d.min || now < d.warmUp {
		return Spike{}
	}
	b := math.Float64frombits(s.base.Load())
	if math.IsNaN(b) {
		b = 0
	}
	if float64(count) <= d.factor*b {
		return Spike{}
	}
	u := s.until.Load()
	if now < u { // another request tripped it meanwhile
		return Spike{Throttled: true, RetryAfter: time.Duration(u - now)}
	}
	if s.until.CompareAndSwap(u, now+d.cooldown) {
		s.tripped.Store(w)
		return Spike{Throttled: true, RetryAfter: time.Duration(d.cooldown), Tripped: true,
			Count: int64(count), Baseline: b}
	}
	return Spike{Throttled: true, RetryAfter: time.Duration(s.until.Load() - now)}
}

// fold adds a finished window of count requests to s's baseline, then
// decays it for the gap-1 windows after it that saw no request. A window
// that tripped a cool-down is left out: a spike is not the usual level.
func (d *SpikeDetector) fold(s *spikeState, count uint32, gap uint32, spiked bool) {
	for {
		old := s.base.Load()
		b := math.Float64frombits(old)
		switch {
		case spiked:
		case math.IsNaN(b):
			b = float64(count) // the first window is the best guess there is
		default:
			b += d.alpha * (float64(count) - b)
		}
		if gap > 1 && !math.IsNaN(b) {
			b *= math.Pow(d.keep, float64(gap-1))
		}
		if s.base.CompareAndSwap(old, math.Float64bits(b)) {
			return
		}
	}
}

// Subjects returns how many subjects are tracked.
func (d *SpikeDetector) Subjects() int {
	n := 0
	for i := range d.shards {
		sh := &d.shards[i]
		sh.mu.Lock()
		n += sh.subj.Len()
		sh.mu.Unlock()
	}
	return n
}
