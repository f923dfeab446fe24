package cache

import (
	"context"
	"errors"
	"time"
)

// ErrMiss is returned by Backend.Get when the key is absent or expired.
var ErrMiss = errors.New("cache: miss")

// ErrTooLarge is wrapped by a Backend.Set that refuses a value for its
// size; the caller just does not cache that answer.
var ErrTooLarge = errors.New("cache: entry too large")

// Backend stores encoded entries; safe for concurrent use. Any error other
// than ErrMiss is a failure of the store, which callers treat as a miss.
type Backend interface {
	// Get returns the value stored under k, or ErrMiss when absent or
	// expired. The caller must not modify the bytes.
	Get(ctx context.Context, k Key) ([]byte, error)
	// Set stores val under k for ttl, which must be positive, replacing
	// any value there. It takes ownership of val; model tags the value for
	// PurgeModel.
	Set(ctx context.Context, k Key, model string, val []byte, ttl time.Duration) error
	// Delete removes k and reports whether it was there.
	Delete(ctx context.Context, k Key) (bool, error)
	// PurgeModel removes every value tagged with model and returns how
	// many it removed (Redis: a best-effort count). A value stored again
	// under another model may be removed too (Redis); that costs a miss.
	PurgeModel(ctx context.Context, model string) (int, error)
	// PurgeAll removes every value and returns how many it removed.
	PurgeAll(ctx context.Context) (int, error)
	// Close releases the backend's resources; it must not be used after.
	Close() error
}

var (
	_ Backend = (*Memory)(nil)
	_ Backend = (*Redis)(nil)
)
