package admin

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sluicehq/sluice/internal/auth"
)

func TestKeyRotate(t *testing.T) {
	// The store judges a previous secret's grace by its own (real) clock,
	// so the API's clock is set relative to the real time: grace ends an
	// hour ahead of it, or already ended an hour ago.
	real := time.Now().UTC().Truncate(time.Microsecond)
	tests := []struct {
		name      string
		now       time.Time
		body      string
		wantUntil time.Time // zero: no previous secret
		oldWorks  bool
	}{
		{name: "default grace is a day", now: real, body: ``, wantUntil: real.Add(24 * time.Hour), oldWorks: true},
		{name: "grace of an hour", now: real, body: `{"grace_seconds":3600}`, wantUntil: real.Add(time.Hour), oldWorks: true},
		{name: "no grace", now: real, body: `{"grace_seconds":0}`},
		{name: "grace over", now: real.Add(-2 * time.Hour), body: `{"grace_seconds":3600}`, wantUntil: real.Add(-time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := sqliteStore(t)
			api := serveKeys(t, db, func() time.Time { return tc.now })
			k := api.createKey(t, testKey, `{"name":"r"}`)
			r := api.call(t, testKey, "POST", "/admin/v1/keys/"+k.ID+"/rotate", tc.body)
			wantStatus(t, r, http.StatusOK)
			var got keyObject
			decodeStrict(t, r.body, &got)
			if _, ok := auth.ParseKey(got.Key); !ok || got.Key == k.Key || got.ID != k.ID || got.Prefix != auth.DisplayPrefix(got.Key) {
				t.Fatalf("rotate answer: id %s prefix %q secret new=%v", got.ID, got.Prefix, got.Key != k.Key)
			}
			stored, err := db.GetKey(context.Background(), k.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !stored.PrevUntil.Equal(tc.wantUntil) {
				t.Errorf("PrevUntil %v, want %v", stored.PrevUntil, tc.wantUntil)
			}
			wantPrev := (*string)(nil)
			if !tc.wantUntil.IsZero() {
				wantPrev = ptr(tc.wantUntil.Format(time.RFC3339Nano))
			}
			if diff := cmp.Diff(got.PrevUntil, wantPrev); diff != "" {
				t.Errorf("previous_key_valid_until (-got +want):\n%s", diff)
			}
			if _, err := db.KeyByHash(context.Background(), auth.HashKey(got.Key)); err != nil {
				t.Errorf("new secret: %v", err)
			}
			_, err = db.KeyByHash(context.Background(), auth.HashKey(k.Key))
			if tc.oldWorks && err != nil || !tc.oldWorks && !isNotFound(err) {
				t.Errorf("old secret: err %v, want valid=%v", err, tc.oldWorks)
			}
			if c := api.changed.last(t); !auth.EqualHash(c.Hash, auth.HashKey(got.Key)) {
				t.Errorf("KeyChanged did not get the new hash")
			}
		})
	}
}

func TestRotateRefusals(t *testing.T) {
	api := serveKeys(t, sqliteStore(t), nil)
	k := api.createKey(t, testKey, `{}`)
	for _, tc := range []struct{ body, wantParam string }{
		{`{"grace_seconds":-1}`, "grace_seconds"},
		{`{"grace_seconds":2592001}`, "grace_seconds"},
		{`{"grace":5}`, "grace"},
	} {
		r := api.call(t, testKey, "POST", "/admin/v1/keys/"+k.ID+"/rotate", tc.body)
		if e := decodeError(t, r); r.status != 400 || deref(e.Error.Param) != tc.wantParam {
			t.Errorf("%s: got %d %s, want 400 naming %s", tc.body, r.status, r.body, tc.wantParam)
		}
	}
}
