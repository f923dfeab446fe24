package admin

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/store"
)

// This file serves /admin/v1/keys: gateway keys (role "") and admin keys.
// A key's secret is made here, returned once (member "key" of the create
// and rotate answers) and never stored: the store keeps its SHA-256 and a
// display prefix. Every change reaches Options.KeyChanged after the store
// has it.
//
// Writes are read-modify-write without a version check: of two concurrent
// PATCHes or rotations of one key, the later wins whole.

const (
	kindKey = "key"
	// defaultGrace is how long a rotated-out secret stays valid when the
	// rotate body does not say.
	defaultGrace = 24 * time.Hour
	// maxGrace bounds grace_seconds: 30 days.
	maxGrace = 30 * 24 * time.Hour
)

// createKey serves POST /keys: 201 with the key and its secret.
func (s *server) createKey(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := needKeyWrite(&c.p); err != nil {
		return err
	}
	f, perr := readFields(w, r)
	if perr != nil {
		return perr
	}
	in, perr := parseKeyInput(f, false)
	if perr != nil {
		return perr
	}
	var k store.Key
	in.apply(&k)
	if err := s.checkKey(r.Context(), c, &k, &in, true); err != nil {
		return err
	}
	secret, err := auth.NewKey()
	if err != nil {
		return err // a failing random source: a 500
	}
	k.ID, k.Hash, k.Prefix = auth.NewID("key_"), auth.HashKey(secret), auth.DisplayPrefix(secret)
	if err := s.db.CreateKey(r.Context(), &k); err != nil {
		return storeError(err, kindKey, "a key with this ID or secret exists; retry")
	}
	s.keyChanged(k)
	c.target, c.detail = k.ID, map[string]string{"fields": f.names()}
	w.Header().Set("Location", Prefix+"/keys/"+k.ID)
	c.reply(http.StatusCreated, appendKey(nil, &k, secret))
	return nil
}

// checkKey checks k, a new key (create) or a stored one with in applied,
// against what parseKeyInput cannot know: the caller's scope and role,
// the tenant and team it names, and the clock.
func (s *server) checkKey(ctx context.Context, c *call, k *store.Key, in *keyInput, create bool) error {
	if err := s.placeInScope(ctx, c.scope, &k.TenantID, &k.TeamID, in.TenantID, in.TeamID, create); err != nil {
		return err
	}
	if create || in.Role != nil {
		if err := needRank(&c.p, "role", k.Role); err != nil {
			return err
		}
	}
	if in.ExpiresAt != nil && !k.ExpiresAt.IsZero() && !k.ExpiresAt.After(s.now()) {
		return llm.BadRequest("expires_at", "expires_at: %s is not in the future", k.ExpiresAt.Format(time.RFC3339Nano))
	}
	return nil
}

// listKeys serves GET /keys: one page of keys, newest first, without
// secrets, in the /logs list envelope.
func (s *server) listKeys(_ http.ResponseWriter, r *http.Request, c *call) error {
	if err := needRead(&c.p); err != nil {
		return err
	}
	f, perr := parseKeysQuery(r.URL.Query())
	if perr != nil {
		return perr
	}
	if perr := c.scope.narrowKeys(&f); perr != nil {
		return perr
	}
	keys, next, err := s.db.ListKeys(r.Context(), f)
	if err != nil {
		return storeError(err, kindKey, "")
	}
	buf := append(make([]byte, 0, 256+len(keys)*512), `{"object":"list","data":[`...)
	n := 0
	for i := range keys {
		// The filter holds the scope; this guards against a key whose
		// tenant and team disagree (written around the API).
		if !c.scope.allowsKey(&keys[i]) {
			continue
		}
		if n++; n > 1 {
			buf = append(buf, ',')
		}
		buf = appendKey(buf, &keys[i], "")
	}
	c.reply(http.StatusOK, appendListEnd(buf, next))
	return nil
}

// getKey serves GET /keys/{id}.
func (s *server) getKey(_ http.ResponseWriter, r *http.Request, c *call) error {
	if err := needRead(&c.p); err != nil {
		return err
	}
	if perr := eachParam(r.URL.Query(), unknownParam); perr != nil {
		return perr
	}
	k, err := s.db.GetKey(r.Context(), c.target)
	if err != nil {
		return storeError(err, kindKey, "")
	}
	if !c.scope.allowsKey(&k) {
		return hidden(kindKey)
	}
	c.reply(http.StatusOK, appendKey(nil, &k, ""))
	return nil
}

// keyForWrite returns the key a PATCH, DELETE or rotate names, if the
// caller may change it: in its scope (else 404) and of a role no higher
// than its own (else 403).
func (s *server) keyForWrite(r *http.Request, c *call) (store.Key, error) {
	if err := needKeyWrite(&c.p); err != nil {
		return store.Key{}, err
	}
	k, err := s.db.GetKey(r.Context(), c.target)
	if err != nil {
		return store.Key{}, storeError(err, kindKey, "")
	}
	if !c.scope.allowsKey(&k) {
		return store.Key{}, hidden(kindKey)
	}
	if err := needRank(&c.p, "", k.Role); err != nil {
		return store.Key{}, err
	}
	return k, nil
}

// updateKey serves PATCH /keys/{id}: the given members change, the others
// stay; "disabled": true revokes the key (reversibly, unlike DELETE).
func (s *server) updateKey(w http.ResponseWriter, r *http.Request, c *call) error {
	k, err := s.keyForWrite(r, c)
	if err != nil {
		return err
	}
	f, perr := readFields(w, r)
	if perr != nil {
		return perr
	}
	in, perr := parseKeyInput(f, true)
	if perr != nil {
		return perr
	}
	in.apply(&k)
	if err := s.checkKey(r.Context(), c, &k, &in, false); err != nil {
		return err
	}
	if err := s.db.UpdateKey(r.Context(), &k); err != nil {
		return storeError(err, kindKey, "")
	}
	s.keyChanged(k)
	c.detail = map[string]string{"fields": f.names()}
	c.reply(http.StatusOK, appendKey(nil, &k, ""))
	return nil
}

// revokeKey serves DELETE /keys/{id}: the key is deleted, and fails from
// the next request on; 204.
func (s *server) revokeKey(_ http.ResponseWriter, r *http.Request, c *call) error {
	k, err := s.keyForWrite(r, c)
	if err != nil {
		return err
	}
	if err := s.db.DeleteKey(r.Context(), k.ID); err != nil {
		return storeError(err, kindKey, "")
	}
	k.Disabled = true
	s.keyChanged(k)
	c.reply(http.StatusNoContent, nil)
	return nil
}

// rotateKey serves POST /keys/{id}/rotate: a new secret, returned once;
// the old one stays valid for grace_seconds (default 86400, 0 = none,
// at most 30 days). A secret rotated out earlier, still in its grace,
// stops working: a key has at most one previous secret.
func (s *server) rotateKey(w http.ResponseWriter, r *http.Request, c *call) error {
	k, err := s.keyForWrite(r, c)
	if err != nil {
		return err
	}
	grace, perr := parseRotateBody(w, r)
	if perr != nil {
		return perr
	}
	secret, err := auth.NewKey()
	if err != nil {
		return err
	}
	k.PrevHash, k.PrevUntil = nil, time.Time{}
	if grace > 0 {
		k.PrevHash, k.PrevUntil = k.Hash, s.now().Add(grace).UTC().Truncate(time.Microsecond)
	}
	k.Hash, k.Prefix = auth.HashKey(secret), auth.DisplayPrefix(secret)
	if err := s.db.UpdateKey(r.Context(), &k); err != nil {
		return storeError(err, kindKey, "the new secret collides with another key's; retry")
	}
	s.keyChanged(k)
	c.detail = map[string]string{"grace_seconds": strconv.FormatInt(int64(grace/time.Second), 10)}
	c.reply(http.StatusOK, appendKey(nil, &k, secret))
	return nil
}

// parseRotateBody reads the rotate body, {"grace_seconds": N} or nothing.
func parseRotateBody(w http.ResponseWriter, r *http.Request) (time.Duration, *llm.Error) {
	f, perr := readFields(w, r)
	if perr != nil {
		return 0, perr
	}
	return rotateGrace(f)
}

// rotateGrace decodes a rotate body's members.
func rotateGrace(f fields) (time.Duration, *llm.Error) {
	if perr := f.only("grace_seconds"); perr != nil {
		return 0, perr
	}
	n, perr := f.count("grace_seconds", int64(maxGrace/time.Second))
	if perr != nil {
		return 0, perr
	}
	if n == nil || isNull(f["grace_seconds"]) {
		return defaultGrace, nil
	}
	return time.Duration(*n) * time.Second, nil
}
