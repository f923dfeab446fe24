package cache

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisIndex shares vectors between replicas through a Redis stream (XADD
// prefix+"sem" with fields scope, key, vec as little-endian float32 bytes,
// expires as unix ms; MAXLEN ~ semStreamMaxLen); each replica mirrors the
// stream into its local MemoryIndex (XREAD from the last id it has seen,
// non-blocking, on each Search at most once per SyncEvery (default 100ms)
// and always on the first Search) and searches locally, so lookups stay
// in-process. Remove/Purge are local plus an entry in the stream telling
// others (field op=del / op=purge).
//
// A replica starts reading at the beginning of the stream, so it warms up
// with what others stored. It replays its own entries too: they carry the
// same expiry as its local copy and are skipped, while replaying its own
// Remove and Purge in stream order keeps every replica's view the same.
//
// Redis failures never fail a Search: it answers from the local index and
// the failure is counted (Failures, LastError), and syncs pause for a
// second. Add, Remove and Purge update the local index first and then
// return an error if Redis could not be told.
type RedisIndex struct {
	client    redis.UniversalClient
	stream    string
	local     *MemoryIndex
	syncEvery time.Duration

	syncMu   sync.Mutex // held by the one sync running; guards lastID
	lastID   string
	nextSync atomic.Int64 // unix ns on the local index's clock

	failures atomic.Uint64
	errMu    sync.Mutex
	lastErr  error
}

const (
	defaultSemSyncEvery = 100 * time.Millisecond
	// semStreamMaxLen bounds the stream (approximately): 10,000 entries of
	// 1536-dimension vectors are ~60 MB in Redis. A replica joining later
	// warms up with the newest of them.
	semStreamMaxLen = 10000
	// A sync reads at most semSyncMaxBatches batches of semSyncBatch
	// entries, within semSyncTimeout; the next sync goes on from there.
	semSyncBatch      = 512
	semSyncMaxBatches = 8
	semSyncTimeout    = 250 * time.Millisecond
	// semSyncBackoff is the pause of syncs after a failed one.
	semSyncBackoff = time.Second
)

// NewRedisIndex returns an index mirrored through the stream prefix+"sem"
// into local, which it owns from then on (Close closes it). syncEvery <= 0
// means 100ms. It panics on a nil client or local index.
func NewRedisIndex(client redis.UniversalClient, prefix string, local *MemoryIndex, syncEvery time.Duration) *RedisIndex {
	if client == nil || local == nil {
		panic("cache: NewRedisIndex with a nil client or local index")
	}
	if syncEvery <= 0 {
		syncEvery = defaultSemSyncEvery
	}
	return &RedisIndex{client: client, stream: prefix + "sem", local: local, syncEvery: syncEvery, lastID: "0"}
}

// Search syncs from the stream when due (unless another Search is syncing)
// and searches the local index. A failed sync is counted, not returned.
func (r *RedisIndex) Search(ctx context.Context, scope string, vec []float32, min float32) (Key, float32, bool, error) {
	if r.local.closed.Load() {
		return Key{}, 0, false, ErrIndexClosed
	}
	if now := r.local.now().UnixNano(); now >= r.nextSync.Load() && r.syncMu.TryLock() {
		if now >= r.nextSync.Load() {
			r.syncLocked(ctx, now)
		}
		r.syncMu.Unlock()
	}
	return r.local.Search(ctx, scope, vec, min)
}

// Sync reads the stream into the local index now, waiting for a sync in
// progress first, and returns its error (also counted).
func (r *RedisIndex) Sync(ctx context.Context) error {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	return r.syncLocked(ctx, r.local.now().UnixNano())
}

// syncLocked reads what the stream holds after lastID, applies it and
// schedules the next sync; r.syncMu is held.
func (r *RedisIndex) syncLocked(ctx context.Context, now int64) error {
	err := r.read(ctx)
	wait := r.syncEvery
	if err != nil {
		r.fail(err)
		wait = max(wait, semSyncBackoff)
	}
	r.nextSync.Store(now + int64(wait))
	return err
}

// read applies up to semSyncMaxBatches batches of entries.
func (r *RedisIndex) read(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, semSyncTimeout)
	defer cancel()
	for range semSyncMaxBatches {
		streams, err := r.client.XRead(ctx, &redis.XReadArgs{
			Streams: []string{r.stream, r.lastID}, Count: semSyncBatch, Block: -1,
		}).Result()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("cache: semantic sync: %w", err)
		}
		n := 0
		for _, st := range streams {
			for _, msg := range st.Messages {
				r.apply(ctx, msg)
				r.lastID = msg.ID
				n++
			}
		}
		if n < semSyncBatch {
			return nil
		}
	}
	return nil
}

// apply applies one stream entry to the local index; a malformed entry is
// counted as a failure and skipped.
func (r *RedisIndex) apply(ctx context.Context, msg redis.XMessage) {
	ev, err := decodeSemEvent(msg.Values)
	if err == nil {
		switch ev.op {
		case semOpAdd:
			err = r.local.add(ev.scope, ev.vec, ev.key, ev.expires*int64(time.Millisecond), true)
		case semOpDel:
			err = r.local.Remove(ctx, ev.scope, ev.key)
		case semOpPurge:
			err = r.local.Purge(ctx)
		}
	}
	if err != nil && !errors.Is(err, ErrIndexClosed) {
		r.fail(fmt.Errorf("cache: semantic sync: entry %s: %w", msg.ID, err))
	}
}

// Add stores vec for k in the local index and appends it to the stream.
func (r *RedisIndex) Add(ctx context.Context, scope string, vec []float32, k Key, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("cache: semantic add: ttl %v is not positive", ttl)
	}
	exp := r.local.now().Add(ttl)
	if err := r.local.add(scope, vec, k, exp.UnixNano(), false); err != nil {
		return err
	}
	return r.publish(ctx, semEvent{op: semOpAdd, scope: scope, key: k, vec: vec, expires: exp.UnixMilli()})
}

// Remove drops k from the local index and tells the other replicas.
func (r *RedisIndex) Remove(ctx context.Context, scope string, k Key) error {
	if err := r.local.Remove(ctx, scope, k); err != nil {
		return err
	}
	return r.publish(ctx, semEvent{op: semOpDel, scope: scope, key: k})
}

// Purge empties the local index and tells the other replicas.
func (r *RedisIndex) Purge(ctx context.Context) error {
	if err := r.local.Purge(ctx); err != nil {
		return err
	}
	return r.publish(ctx, semEvent{op: semOpPurge})
}

// Close closes the local index; the client stays open (it is shared).
func (r *RedisIndex) Close() error { return r.local.Close() }

// Failures counts failed Redis calls (syncs and publishes) and skipped
// malformed stream entries since the index was made.
func (r *RedisIndex) Failures() uint64 { return r.failures.Load() }

// LastError returns the latest failure Failures counted, or nil.
func (r *RedisIndex) LastError() error {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return r.lastErr
}

func (r *RedisIndex) fail(err error) {
	r.failures.Add(1)
	r.errMu.Lock()
	r.lastErr = err
	r.errMu.Unlock()
}

// publish appends ev to the stream.
func (r *RedisIndex) publish(ctx context.Context, ev semEvent) error {
	err := r.client.XAdd(ctx, &redis.XAddArgs{
		Stream: r.stream, MaxLen: semStreamMaxLen, Approx: true, Values: ev.values(),
	}).Err()
	if err != nil {
		err = fmt.Errorf("cache: semantic publish %s: %w", ev.op, err)
		r.fail(err)
	}
	return err
}

// The operations of stream entries; an entry without op is an add.
const (
	semOpAdd   = "add"
	semOpDel   = "del"
	semOpPurge = "purge"
)

// semEvent is one stream entry.
type semEvent struct {
	op      string
	scope   string // add, del
	key     Key    // add, del
	vec     []float32
	expires int64 // unix ms, add
}

// values returns the entry's fields for XADD.
func (e *semEvent) values() []any {
	switch e.op {
	case semOpPurge:
		return []any{"op", semOpPurge}
	case semOpDel:
		return []any{"op", semOpDel, "scope", e.scope, "key", e.key.String()}
	}
	vec := make([]byte, 0, 4*len(e.vec))
	for _, v := range e.vec {
		vec = binary.LittleEndian.AppendUint32(vec, math.Float32bits(v))
	}
	return []any{"scope", e.scope, "key", e.key.String(), "vec", vec, "expires", e.expires}
}

// decodeSemEvent reads a stream entry's fields as XREAD returns them.
func decodeSemEvent(values map[string]any) (semEvent, error) {
	field := func(name string) (string, bool) {
		s, ok := values[name].(string)
		return s, ok
	}
	op, hasOp := field("op")
	if !hasOp {
		op = semOpAdd
	}
	ev := semEvent{op: op}
	switch op {
	case semOpPurge:
		return ev, nil
	case semOpAdd, semOpDel:
	default:
		return semEvent{}, fmt.Errorf("unknown op %q", op)
	}
	var ok bool
	if ev.scope, ok = field("scope"); !ok {
		return semEvent{}, errors.New("no scope")
	}
	hexKey, _ := field("key")
	k, err := ParseKey(hexKey)
	if err != nil {
		return semEvent{}, err
	}
	ev.key = k
	if op == semOpDel {
		return ev, nil
	}
	raw, _ := field("vec")
	if len(raw) == 0 || len(raw)%4 != 0 || len(raw) > 4*maxVectorDims {
		return semEvent{}, fmt.Errorf("vec of %d bytes", len(raw))
	}
	ev.vec = make([]float32, len(raw)/4)
	for i := range ev.vec {
		b := raw[4*i : 4*i+4]
		ev.vec[i] = math.Float32frombits(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
	}
	exp, _ := field("expires")
	if ev.expires, err = strconv.ParseInt(exp, 10, 64); err != nil || ev.expires <= 0 || ev.expires > math.MaxInt64/int64(time.Millisecond) {
		return semEvent{}, fmt.Errorf("bad expires %q", exp)
	}
	return ev, nil
}
