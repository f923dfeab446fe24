package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisBatch is how many keys one pipeline of UNLINKs, SPOP or SCAN step
// handles.
const redisBatch = 500

// Redis is a Backend in Redis, shared by every replica using the same
// server and prefix. Values live at prefix+"e:"+key-hex with a PX time to
// live; each model has a set at prefix+"m:"+hex(sha256(model))[:32] of the
// key hexes stored for it, expiring no earlier than its longest-lived
// value, which PurgeModel drains. Members of expired values stay in their
// set until it expires or is purged. PurgeAll touches only those two
// key spaces, so the prefix may be shared with other Sluice data.
//
// It works against one server, a primary found through Sentinel, or a
// Redis Cluster: no command names keys of two hash slots (Set pipelines
// without MULTI, purges unlink one key per command), and PurgeAll scans
// every primary of a *redis.ClusterClient. Errors other than a miss are
// returned wrapped; bound their latency with the caller's context or the
// client's timeouts.
type Redis struct {
	c      redis.UniversalClient
	prefix string
}

// NewRedis returns a backend over client, which the caller owns and
// closes, storing keys under prefix (e.g. "sluice:cache:"; may be empty).
// It panics if client is nil, a wiring bug.
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	if client == nil {
		panic("cache: NewRedis with a nil client")
	}
	return &Redis{c: client, prefix: prefix}
}

func (r *Redis) entryKey(hexKey string) string { return r.prefix + "e:" + hexKey }

func (r *Redis) modelKey(model string) string {
	sum := sha256.Sum256([]byte(model))
	return r.prefix + "m:" + hex.EncodeToString(sum[:16])
}

// Get returns the value under k with one GET, or ErrMiss.
func (r *Redis) Get(ctx context.Context, k Key) ([]byte, error) {
	b, err := r.c.Get(ctx, r.entryKey(k.String())).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrMiss
	}
	if err != nil {
		return nil, fmt.Errorf("cache: redis get: %w", err)
	}
	return b, nil
}

// Set stores val under k for ttl (rounded up to a millisecond) and tags it
// with model, in one pipelined round trip (per node, on a cluster): SET PX,
// SADD to the model's set, and PEXPIRE NX then GT so the set outlives all
// its values. It is not a transaction, since the two keys may live on
// different nodes: a failure midway may leave a value untagged (PurgeAll
// still finds it) or a tag without its value (harmless).
func (r *Redis) Set(ctx context.Context, k Key, model string, val []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("cache: redis set: ttl %v is not positive", ttl)
	}
	ms := strconv.FormatInt(int64((ttl+time.Millisecond-1)/time.Millisecond), 10)
	h := k.String()
	set := r.modelKey(model)
	_, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Do(ctx, "set", r.entryKey(h), val, "px", ms)
		p.SAdd(ctx, set, h)
		p.Do(ctx, "pexpire", set, ms, "nx")
		p.Do(ctx, "pexpire", set, ms, "gt")
		return nil
	})
	if err != nil {
		return fmt.Errorf("cache: redis set: %w", err)
	}
	return nil
}

// Delete removes k with one UNLINK. The key stays a member of its model's
// set, which is harmless.
func (r *Redis) Delete(ctx context.Context, k Key) (bool, error) {
	n, err := r.c.Unlink(ctx, r.entryKey(k.String())).Result()
	if err != nil {
		return false, fmt.Errorf("cache: redis delete: %w", err)
	}
	return n > 0, nil
}

// PurgeModel removes every value tagged with model. It drains the model's
// set with SPOP in batches, so members added meanwhile are either removed
// too or stay for the next purge, and UNLINKs the popped values. The count
// is of values that still existed.
func (r *Redis) PurgeModel(ctx context.Context, model string) (int, error) {
	set := r.modelKey(model)
	total := 0
	for {
		members, err := r.c.SPopN(ctx, set, redisBatch).Result()
		if err != nil {
			return total, fmt.Errorf("cache: redis purge model: %w", err)
		}
		n, err := r.unlink(ctx, members, r.entryKey)
		total += n
		if err != nil {
			return total, fmt.Errorf("cache: redis purge model: %w", err)
		}
		if len(members) < redisBatch {
			return total, nil
		}
	}
}

// PurgeAll removes every value and every model set under the prefix, by
// SCAN and UNLINK in batches, on every primary of a cluster (at once) and
// on the one server otherwise; it returns how many values it removed.
// Keys under the prefix outside those two spaces are left alone.
func (r *Redis) PurgeAll(ctx context.Context) (int, error) {
	n, err := r.purgeMatching(ctx, r.prefix+"e:")
	if err != nil {
		return n, fmt.Errorf("cache: redis purge all: %w", err)
	}
	if _, err := r.purgeMatching(ctx, r.prefix+"m:"); err != nil {
		return n, fmt.Errorf("cache: redis purge all: %w", err)
	}
	return n, nil
}

// purgeMatching unlinks every key starting with prefix, scanning each
// primary of a cluster.
func (r *Redis) purgeMatching(ctx context.Context, prefix string) (int, error) {
	cc, ok := r.c.(*redis.ClusterClient)
	if !ok {
		return r.purgeNode(ctx, r.c, prefix)
	}
	var total atomic.Int64
	err := cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		n, err := r.purgeNode(ctx, node, prefix)
		total.Add(int64(n))
		return err
	})
	return int(total.Load()), err
}

// purgeNode unlinks every key starting with prefix that SCAN finds on
// node, through node (which holds them all).
func (r *Redis) purgeNode(ctx context.Context, node redis.UniversalClient, prefix string) (int, error) {
	match := escapeGlob(prefix) + "*"
	total := 0
	var cursor uint64
	for {
		keys, next, err := node.Scan(ctx, cursor, match, redisBatch).Result()
		if err != nil {
			return total, err
		}
		n, err := unlinkEach(ctx, node, keys, nil)
		total += n
		if err != nil || next == 0 {
			return total, err
		}
		cursor = next
	}
}

// unlink removes keys (mapped through name when not nil) and returns how
// many existed.
func (r *Redis) unlink(ctx context.Context, keys []string, name func(string) string) (int, error) {
	return unlinkEach(ctx, r.c, keys, name)
}

// unlinkEach removes keys (mapped through name when not nil) with one
// UNLINK per key, pipelined in batches, so that no command names keys of
// two cluster slots; it returns how many existed.
func unlinkEach(ctx context.Context, c redis.UniversalClient, keys []string, name func(string) string) (int, error) {
	total := 0
	for len(keys) > 0 {
		batch := keys[:min(len(keys), redisBatch)]
		keys = keys[len(batch):]
		cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range batch {
				if name != nil {
					k = name(k)
				}
				p.Unlink(ctx, k)
			}
			return nil
		})
		for _, cmd := range cmds {
			if ic, ok := cmd.(*redis.IntCmd); ok && ic.Err() == nil {
				total += int(ic.Val())
			}
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// escapeGlob quotes the characters Redis's MATCH pattern treats specially,
// so that a prefix matches only itself.
func escapeGlob(s string) string {
	if !strings.ContainsAny(s, `*?[]\^-`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '*', '?', '[', ']', '\\', '^', '-':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Close does nothing: the client belongs to the caller.
func (r *Redis) Close() error { return nil }
