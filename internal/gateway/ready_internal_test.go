package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/store"
)

// readyJSON is the /readyz body, decoded.
type readyJSON struct {
	Status   string   `json:"status"`
	Node     string   `json:"node"`
	Degraded []string `json:"degraded"`
}

func TestReadyzDrainingIs503(t *testing.T) {
	g := &Gateway{node: "pod-7", storeProbe: newStoreProbe(nil)}
	g.draining.Store(true)
	w := httptest.NewRecorder()
	g.handleReady(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", w.Code)
	}
	var got readyJSON
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	if d := cmp.Diff(got, readyJSON{Status: "draining", Node: "pod-7", Degraded: []string{}}); d != "" {
		t.Errorf("body (-got +want):\n%s", d)
	}
}

// TestStoreProbeCachesItsAnswerForASecond: one ping a second at most, and
// a store that stops answering shows once the cached answer is stale.
func TestStoreProbeCachesItsAnswerForASecond(t *testing.T) {
	db, err := store.Open(context.Background(), store.Config{DSN: filepath.Join(t.TempDir(), "s.db")})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p := newStoreProbe(db)
	p.now = func() time.Time { return now }
	ctx := context.Background()
	if !p.healthy(ctx) {
		t.Fatal("an open store is not healthy")
	}
	db.Close() // every ping fails from now on
	now = now.Add(readyPingTTL - time.Millisecond)
	if !p.healthy(ctx) {
		t.Error("the answer was not cached for readyPingTTL")
	}
	now = now.Add(time.Millisecond)
	if p.healthy(ctx) {
		t.Error("a closed store is healthy once the cached answer is stale")
	}
	now = now.Add(-time.Hour) // a clock stepped back does not pin the answer
	if p.healthy(ctx) {
		t.Error("a closed store is healthy after the clock stepped back")
	}
	var nilProbe *storeProbe
	if !nilProbe.healthy(ctx) || !newStoreProbe(nil).healthy(ctx) {
		t.Error("no store must count as healthy")
	}
}

// TestStoreProbeIgnoresTheCallerLeaving: a client that hangs up during
// the ping does not mark the store down.
func TestStoreProbeIgnoresTheCallerLeaving(t *testing.T) {
	db, err := store.Open(context.Background(), store.Config{DSN: filepath.Join(t.TempDir(), "s.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if !newStoreProbe(db).healthy(ctx) {
		t.Error("a cancelled request made the store unhealthy")
	}
}

func TestTopicBits(t *testing.T) {
	for _, tc := range []struct {
		topic string
		want  uint32
	}{
		{store.TopicKeys, topicKeys},
		{store.TopicScopes, topicScopes},
		{store.TopicCredentials, topicCredentials},
		{store.TopicAll, topicKeys | topicScopes | topicCredentials},
		{"budgets", 0}, // a newer replica's topic: nothing here to reload
		{"", 0},
		{"KEYS", 0},
	} {
		if got := topicBits(tc.topic); got != tc.want {
			t.Errorf("topicBits(%q) = %b, want %b", tc.topic, got, tc.want)
		}
	}
}

// FuzzTopicBits: any payload maps to nothing, one known topic, or (only
// "*") all of them.
func FuzzTopicBits(f *testing.F) {
	for _, s := range []string{store.TopicKeys, store.TopicScopes, store.TopicCredentials, store.TopicAll, "", "keys ", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, topic string) {
		got := topicBits(topic)
		switch {
		case topic == store.TopicAll:
			if got != topicAll {
				t.Errorf("topicBits(*) = %b", got)
			}
		case got == 0:
		default:
			found := false
			for _, n := range topicNames {
				found = found || n.bit == got && n.name == topic
			}
			if !found {
				t.Errorf("topicBits(%q) = %b, not the bit of that topic", topic, got)
			}
		}
	})
}

// FuzzAppendReady: any node name and list make valid JSON that decodes
// to them (invalid UTF-8 as U+FFFD).
func FuzzAppendReady(f *testing.F) {
	f.Add("ready", "pod-1", "redis_limits", "store")
	f.Add("degraded", "a\"b\\c\n\u2028", "", "\xff")
	f.Add("draining", "", "x", "y")
	f.Fuzz(func(t *testing.T, status, node, d1, d2 string) {
		b := appendReady(nil, status, node, []string{d1, d2})
		var got readyJSON
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		want := readyJSON{Status: valid(status), Node: valid(node), Degraded: []string{valid(d1), valid(d2)}}
		if d := cmp.Diff(got, want); d != "" {
			t.Errorf("decoded (-got +want):\n%s", d)
		}
	})
}

// valid is s with each invalid UTF-8 byte replaced by U+FFFD, as
// encoding/json decodes it (ranging over a string does the same).
func valid(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

// BenchmarkReadyz is one /readyz answer with memory backends (the
// store ping is cached, as it is for a load balancer polling).
func BenchmarkReadyz(b *testing.B) {
	g := &Gateway{node: "pod-1", storeProbe: newStoreProbe(nil)}
	req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		g.handleReady(w, req)
	}
}
