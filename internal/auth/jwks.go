package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// fetchTimeout bounds one JWKS fetch, whoever waits for it.
	fetchTimeout = 10 * time.Second
	// maxJWKSBytes bounds a JWKS document.
	maxJWKSBytes = 1 << 20
)

// errRefreshLimited is refresh's answer inside MinRefreshGap of the last
// fetch: nothing was fetched and the current keys stand.
var errRefreshLimited = errors.New("auth: jwks refreshed too recently")

// jwksSource caches one JWKS URL's keys. The first validation fetches and
// waits; later ones read the cached set without locking, start a background
// refresh once it is older than interval, and wait for a refresh only when
// a token names an unknown kid. Fetches never overlap (concurrent callers
// share one) and start at most once per MinRefreshGap, failed ones included.
type jwksSource struct {
	url      string
	client   *http.Client
	now      func() time.Time
	interval time.Duration

	set atomic.Pointer[keySet] // nil until a fetch succeeds

	mu          sync.Mutex
	lastAttempt time.Time  // start of the last fetch; zero = never
	lastErr     error      // the last fetch's error; nil after a success
	inflight    *fetchCall // the running fetch, nil when none
}

// fetchCall is one fetch; err is written before done is closed.
type fetchCall struct {
	done chan struct{}
	err  error
}

// current returns the cached set, nil before the first successful fetch.
func (s *jwksSource) current() *keySet { return s.set.Load() }

// keys returns the cached set, fetching it first (and waiting) if there is
// none yet, and starting a background refresh if it is stale. With no set
// the error is the last fetch's (also inside MinRefreshGap, so logs keep
// saying why the JWKS is missing) or ctx's.
func (s *jwksSource) keys(ctx context.Context) (*keySet, error) {
	set := s.set.Load()
	if set == nil {
		err := s.refresh(ctx, true)
		if set = s.set.Load(); set == nil {
			if errors.Is(err, errRefreshLimited) {
				s.mu.Lock()
				if s.lastErr != nil {
					err = s.lastErr
				}
				s.mu.Unlock()
			}
			if err == nil {
				err = errors.New("auth: jwks not loaded")
			}
			return nil, err
		}
		return set, nil
	}
	if s.now().Sub(set.fetchedAt) >= s.interval {
		_ = s.refresh(ctx, false) // keep serving the old keys meanwhile
	}
	return set, nil
}

// refresh starts a fetch unless one is running (then it joins it) or the
// last one started less than MinRefreshGap ago (then errRefreshLimited).
// With wait it blocks until the fetch ends or ctx is done and returns the
// fetch's error; the fetch runs detached from ctx's cancellation, so a
// caller that gives up does not fail the others.
func (s *jwksSource) refresh(ctx context.Context, wait bool) error {
	s.mu.Lock()
	c := s.inflight
	if c == nil {
		now := s.now()
		if !s.lastAttempt.IsZero() && now.Sub(s.lastAttempt) < MinRefreshGap {
			s.mu.Unlock()
			return errRefreshLimited
		}
		s.lastAttempt = now
		c = &fetchCall{done: make(chan struct{})}
		s.inflight = c
		go s.run(context.WithoutCancel(ctx), c)
	}
	s.mu.Unlock()
	if !wait {
		return nil
	}
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run performs fetch c and publishes its result. A failed fetch leaves the
// previous keys in place.
func (s *jwksSource) run(ctx context.Context, c *fetchCall) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	set, err := s.fetch(ctx)
	if err == nil {
		set.fetchedAt = s.now()
		s.set.Store(set)
	}
	s.mu.Lock()
	s.inflight = nil
	s.lastErr = err
	c.err = err
	s.mu.Unlock()
	close(c.done)
}

// fetch downloads and parses the JWKS. Entries that are not usable
// signature keys are skipped; a set with none left is an error. Errors name
// the URL without its query or user info.
func (s *jwksSource) fetch(ctx context.Context) (*keySet, error) {
	where := redactURL(s.url)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, fmt.Errorf("auth: jwks %s: bad request", where)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // drop the URL, which may carry a query
		}
		return nil, fmt.Errorf("auth: jwks %s: %w", where, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("auth: jwks %s: status %d", where, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("auth: jwks %s: read: %w", where, err)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("auth: jwks %s: larger than %d bytes", where, maxJWKSBytes)
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("auth: jwks %s: decode: %w", where, err)
	}
	set := &keySet{keys: make([]verifyKey, 0, len(doc.Keys))}
	for _, raw := range doc.Keys {
		if k, err := parseJWK(raw); err == nil {
			set.keys = append(set.keys, k)
		}
	}
	if len(set.keys) == 0 {
		return nil, fmt.Errorf("auth: jwks %s: no usable signing keys among %d", where, len(doc.Keys))
	}
	return set, nil
}

// redactURL returns raw without user info, query or fragment.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable url)"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}
