package cache

import (
	"context"
	"crypto/sha256"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sluicehq/sluice/internal/llm"
)

// semKey returns a distinct key per name.
func semKey(name string) Key { return sha256.Sum256([]byte("semantic:" + name)) }

// semClock is a settable clock for expiry tests.
type semClock struct {
	mu sync.Mutex
	t  time.Time
}

func newSemClock() *semClock { return &semClock{t: time.Unix(1_700_000_000, 0)} }

func (c *semClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *semClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// randUnit returns a random unit vector of dims floats.
func randUnit(r *rand.Rand, dims int) []float32 {
	v := make([]float32, dims)
	var sum float64
	for i := range v {
		v[i] = float32(r.NormFloat64())
		sum += float64(v[i]) * float64(v[i])
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(sum))
	}
	return v
}

// nearby returns v moved by noise (relative to its unit length) in a
// random direction, not normalised.
func nearby(r *rand.Rand, v []float32, noise float64) []float32 {
	out := make([]float32, len(v))
	scale := noise / math.Sqrt(float64(len(v)))
	for i := range v {
		out[i] = v[i] + float32(r.NormFloat64()*scale)
	}
	return out
}

// cosine is the cosine similarity of a and b, in float64.
func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

// bruteNearest returns the index of the vector in vecs most similar to q.
func bruteNearest(vecs [][]float32, q []float32) int {
	best, bestSim := -1, -2.0
	for i, v := range vecs {
		if s := cosine(v, q); s > bestSim {
			best, bestSim = i, s
		}
	}
	return best
}

func mustAdd(t testing.TB, ix Index, scope string, vec []float32, k Key, ttl time.Duration) {
	t.Helper()
	if err := ix.Add(context.Background(), scope, vec, k, ttl); err != nil {
		t.Fatalf("Add(%s, %v): %v", scope, k, err)
	}
}

// semHit is what a Search returned.
type semHit struct {
	Key Key
	OK  bool
}

func search(t testing.TB, ix Index, scope string, vec []float32, min float32) (semHit, float32) {
	t.Helper()
	k, sim, ok, err := ix.Search(context.Background(), scope, vec, min)
	if err != nil {
		t.Fatalf("Search(%s): %v", scope, err)
	}
	return semHit{k, ok}, sim
}

func TestMemoryIndexFindsTheExactNearest(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ix := NewMemoryIndex(MemoryIndexOptions{})
	defer ix.Close()
	vecs := make([][]float32, 300)
	for i := range vecs {
		vecs[i] = randUnit(r, 64)
		mustAdd(t, ix, "s", vecs[i], semKey(strconv.Itoa(i)), time.Hour)
	}
	for q := range 100 {
		query := nearby(r, vecs[r.IntN(len(vecs))], 0.8)
		want := bruteNearest(vecs, query)
		got, sim := search(t, ix, "s", query, -1)
		if diff := cmp.Diff(semHit{semKey(strconv.Itoa(want)), true}, got); diff != "" {
			t.Fatalf("query %d: (-want +got):\n%s", q, diff)
		}
		if wantSim := cosine(vecs[want], query); math.Abs(float64(sim)-wantSim) > 1e-5 {
			t.Errorf("query %d: similarity %v, want %v", q, sim, wantSim)
		}
	}
	if _, sim := search(t, ix, "s", vecs[7], 0.999); sim < 0.99999 || sim > 1 {
		t.Errorf("a stored vector found with similarity %v, want 1", sim)
	}
}

func TestMemoryIndexThresholdAndScaling(t *testing.T) {
	ix := NewMemoryIndex(MemoryIndexOptions{})
	defer ix.Close()
	mustAdd(t, ix, "s", []float32{8, 6}, semKey("a"), time.Hour) // 0.8, 0.6 once normalised
	tests := []struct {
		name  string
		query []float32
		min   float32
		want  bool
	}{
		{"above", []float32{1, 0}, 0.79, true},
		{"at the threshold", []float32{1, 0}, 0.8, true},
		{"below", []float32{1, 0}, 0.81, false},
		{"length does not matter", []float32{800, 600}, 0.9999, true},
		{"opposite", []float32{-0.8, -0.6}, -1, true},
		{"opposite and a positive bar", []float32{-0.8, -0.6}, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, sim := search(t, ix, "s", tc.query, tc.min)
			if got.OK != tc.want {
				t.Errorf("ok = %v with similarity %v and min %v, want %v", got.OK, sim, tc.min, tc.want)
			}
			if got.OK && got.Key != semKey("a") {
				t.Errorf("key %v, want %v", got.Key, semKey("a"))
			}
		})
	}
	if _, sim := search(t, ix, "s", []float32{1, 0}, 2); math.Abs(float64(sim)-0.8) > 1e-6 {
		t.Errorf("a miss reports similarity %v, want the best one (0.8)", sim)
	}
}

func TestMemoryIndexScopesAreIsolated(t *testing.T) {
	ix := NewMemoryIndex(MemoryIndexOptions{})
	defer ix.Close()
	v := []float32{1, 2, 3}
	mustAdd(t, ix, Scope("team-a", "gpt"), v, semKey("a"), time.Hour)
	mustAdd(t, ix, Scope("team-b", "gpt"), v, semKey("b"), time.Hour)
	tests := []struct {
		scope string
		want  semHit
	}{
		{Scope("team-a", "gpt"), semHit{semKey("a"), true}},
		{Scope("team-b", "gpt"), semHit{semKey("b"), true}},
		{Scope("team-c", "gpt"), semHit{}},
		{Scope("team-a", "claude"), semHit{}},
	}
	for _, tc := range tests {
		if got, _ := search(t, ix, tc.scope, v, 0.5); got != tc.want {
			t.Errorf("search in %q = %+v, want %+v", tc.scope, got, tc.want)
		}
	}
}

func TestMemoryIndexExpiry(t *testing.T) {
	clock := newSemClock()
	ix := NewMemoryIndex(MemoryIndexOptions{Now: clock.Now})
	defer ix.Close()
	v := []float32{1, 0, 0}
	mustAdd(t, ix, "s", v, semKey("short"), time.Minute)
	mustAdd(t, ix, "s", []float32{0.9, 0.1, 0}, semKey("long"), time.Hour)

	clock.Advance(time.Minute - time.Nanosecond)
	if got, _ := search(t, ix, "s", v, 0.999); got != (semHit{semKey("short"), true}) {
		t.Fatalf("just before its ttl: %+v, want the short-lived vector", got)
	}
	clock.Advance(time.Nanosecond)
	if got, _ := search(t, ix, "s", v, 0.999); got.OK {
		t.Fatalf("at its ttl: %+v, want a miss", got)
	}
	if n := ix.Len("s"); n != 1 {
		t.Errorf("after a search met the expired vector, Len = %d, want 1", n)
	}
	if got, _ := search(t, ix, "s", v, 0.9); got != (semHit{semKey("long"), true}) {
		t.Errorf("the live neighbour: %+v, want it", got)
	}

	// The sweep on Add drops expired vectors of every scope, then the
	// scopes left empty.
	mustAdd(t, ix, "other", v, semKey("o"), time.Minute)
	clock.Advance(2 * time.Hour)
	mustAdd(t, ix, "third", v, semKey("t"), time.Minute)
	if a, b := ix.Len("s"), ix.Len("other"); a != 0 || b != 0 {
		t.Errorf("after the sweep: Len(s) = %d, Len(other) = %d, want 0, 0", a, b)
	}
	ix.mu.RLock()
	_, kept := ix.scopes["other"]
	ix.mu.RUnlock()
	if kept {
		t.Errorf("the sweep kept an empty scope")
	}
}

func TestMemoryIndexRemoveAndReplace(t *testing.T) {
	ix := NewMemoryIndex(MemoryIndexOptions{})
	defer ix.Close()
	ctx := context.Background()
	a, b := []float32{1, 0}, []float32{0, 1}
	mustAdd(t, ix, "s", a, semKey("a"), time.Hour)
	mustAdd(t, ix, "s", b, semKey("b"), time.Hour)
	if err := ix.Remove(ctx, "s", semKey("a")); err != nil {
		t.Fatal(err)
	}
	if err := ix.Remove(ctx, "s", semKey("never added")); err != nil {
		t.Errorf("removing an absent key: %v", err)
	}
	if err := ix.Remove(ctx, "no such scope", semKey("a")); err != nil {
		t.Errorf("removing from an absent scope: %v", err)
	}
	if got, _ := search(t, ix, "s", a, 0.5); got.OK {
		t.Errorf("removed vector still found: %+v", got)
	}
	if got, _ := search(t, ix, "s", b, 0.5); got != (semHit{semKey("b"), true}) {
		t.Errorf("the other vector: %+v, want it", got)
	}

	mustAdd(t, ix, "s", a, semKey("b"), time.Hour) // b now points along a
	if n := ix.Len("s"); n != 1 {
		t.Errorf("Len after replacing = %d, want 1", n)
	}
	if got, _ := search(t, ix, "s", b, 0.5); got.OK {
		t.Errorf("the replaced vector is still found: %+v", got)
	}
	if got, _ := search(t, ix, "s", a, 0.5); got != (semHit{semKey("b"), true}) {
		t.Errorf("the replacement: %+v, want it", got)
	}
}

func TestMemoryIndexDropsTheOldestBeyondMaxPerScope(t *testing.T) {
	ix := NewMemoryIndex(MemoryIndexOptions{MaxPerScope: 3})
	defer ix.Close()
	basis := func(i int) []float32 {
		v := make([]float32, 8)
		v[i] = 1
		return v
	}
	for i := range 3 {
		mustAdd(t, ix, "s", basis(i), semKey(strconv.Itoa(i)), time.Hour)
	}
	mustAdd(t, ix, "s", basis(0), semKey("0"), time.Hour) // re-added: now the newest
	mustAdd(t, ix, "s", basis(3), semKey("3"), time.Hour)
	mustAdd(t, ix, "s", basis(4), semKey("4"), time.Hour)
	if n := ix.Len("s"); n != 3 {
		t.Errorf("Len = %d, want 3", n)
	}
	for i, want := range []bool{true, false, false, true, true} {
		if got, _ := search(t, ix, "s", basis(i), 0.99); got.OK != want {
			t.Errorf("vector %d found = %v, want %v", i, got.OK, want)
		}
	}
}

func TestMemoryIndexNewDimensionsResetTheScope(t *testing.T) {
	ix := NewMemoryIndex(MemoryIndexOptions{})
	defer ix.Close()
	old, new := []float32{1, 0, 0, 0}, []float32{1, 0, 0, 0, 0, 0, 0, 0}
	mustAdd(t, ix, "s", old, semKey("old"), time.Hour)
	mustAdd(t, ix, "s", old, semKey("old2"), time.Hour)
	if got, _ := search(t, ix, "s", new, 0); got.OK {
		t.Errorf("a search with other dimensions found %+v", got)
	}
	mustAdd(t, ix, "s", new, semKey("new"), time.Hour)
	if n := ix.Len("s"); n != 1 {
		t.Errorf("Len after the dimensions changed = %d, want 1", n)
	}
	if got, _ := search(t, ix, "s", new, 0.9); got != (semHit{semKey("new"), true}) {
		t.Errorf("new vector: %+v", got)
	}
	if got, _ := search(t, ix, "s", old, 0); got.OK {
		t.Errorf("old dimensions still found %+v", got)
	}
}

func TestMemoryIndexRejectsBadInput(t *testing.T) {
	ix := NewMemoryIndex(MemoryIndexOptions{})
	ctx := context.Background()
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for name, vec := range map[string][]float32{
		"nil": nil, "zero": {0, 0}, "NaN": {1, nan}, "Inf": {inf, 1},
		"overflowing": {3e38, 3e38}, "tiny": {1e-30, 0}, "too long": make([]float32, maxVectorDims+1),
	} {
		if err := ix.Add(ctx, "s", vec, semKey("k"), time.Hour); !errors.Is(err, ErrBadVector) {
			t.Errorf("Add %s: %v, want ErrBadVector", name, err)
		}
		if _, _, _, err := ix.Search(ctx, "s", vec, 0); !errors.Is(err, ErrBadVector) {
			t.Errorf("Search %s: %v, want ErrBadVector", name, err)
		}
	}
	if err := ix.Add(ctx, "s", []float32{1}, semKey("k"), 0); err == nil {
		t.Errorf("Add with ttl 0 succeeded")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, _, err := ix.Search(cancelled, "s", []float32{1}, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Search with a cancelled context: %v", err)
	}
	if n := ix.Len("s"); n != 0 {
		t.Errorf("bad input was stored: Len = %d", n)
	}

	ix.Close()
	if err := ix.Add(ctx, "s", []float32{1}, semKey("k"), time.Hour); !errors.Is(err, ErrIndexClosed) {
		t.Errorf("Add after Close: %v", err)
	}
	if _, _, _, err := ix.Search(ctx, "s", []float32{1}, 0); !errors.Is(err, ErrIndexClosed) {
		t.Errorf("Search after Close: %v", err)
	}
	if err := ix.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// clusters returns n unit vectors of dims floats in groups of size around
// n/size well-separated centres, and the centres.
func clusters(r *rand.Rand, n, size, dims int) (vecs, centres [][]float32) {
	for len(vecs) < n {
		c := randUnit(r, dims)
		centres = append(centres, c)
		for range size {
			vecs = append(vecs, nearby(r, c, 0.3))
		}
	}
	return vecs[:n], centres
}

// graphOf returns scope's graph and its tombstone count.
func graphOf(ix *MemoryIndex, scope string) (bool, int) {
	s := ix.lookup(scope)
	if s == nil {
		return false, 0
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.graph != nil, s.graphDead
}

func TestMemoryIndexGraphFindsTheTrueNearest(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ix := NewMemoryIndex(MemoryIndexOptions{ExactLimit: 50})
	ix.inlineBuilds = true
	defer ix.Close()
	vecs, centres := clusters(r, 600, 20, 64)
	for i, v := range vecs {
		mustAdd(t, ix, "s", v, semKey(strconv.Itoa(i)), time.Hour)
	}
	if ok, _ := graphOf(ix, "s"); !ok {
		t.Fatalf("no graph with %d vectors and ExactLimit 50", len(vecs))
	}
	check := func(stage string, live map[int]bool) {
		t.Helper()
		misses := 0
		for i, v := range vecs {
			if !live[i] || i%4 != 0 {
				continue
			}
			// A query close to one stored vector, far from the others.
			q := nearby(r, v, 0.05)
			got, sim := search(t, ix, "s", q, 0.9)
			if got != (semHit{semKey(strconv.Itoa(i)), true}) {
				misses++
				t.Logf("%s: vector %d: got %+v with similarity %v", stage, i, got, sim)
			}
		}
		if misses > 0 {
			t.Errorf("%s: %d queries missed their own vector", stage, misses)
		}
		for c, centre := range centres {
			got, _ := search(t, ix, "s", centre, 0)
			var members [][]float32
			var index []int
			for i := range vecs {
				if live[i] {
					members, index = append(members, vecs[i]), append(index, i)
				}
			}
			want := index[bruteNearest(members, centre)]
			if got.Key != semKey(strconv.Itoa(want)) {
				t.Errorf("%s: centre %d: got %v, want vector %d", stage, c, got.Key, want)
			}
		}
	}
	live := map[int]bool{}
	for i := range vecs {
		live[i] = true
	}
	check("built", live)

	// Removing half leaves tombstones, then a rebuild clears them.
	for i := range vecs {
		if i%2 == 1 {
			if err := ix.Remove(context.Background(), "s", semKey(strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
			delete(live, i)
		}
	}
	if ok, dead := graphOf(ix, "s"); !ok || dead >= 300 {
		t.Errorf("after removing 300 of 600: graph %v with %d tombstones, want a rebuilt one", ok, dead)
	}
	check("rebuilt", live)

	// Below half of ExactLimit the graph goes.
	for i := range vecs {
		if live[i] && i > 40 {
			ix.Remove(context.Background(), "s", semKey(strconv.Itoa(i)))
		}
	}
	if ok, _ := graphOf(ix, "s"); ok || ix.Len("s") >= 25 {
		t.Errorf("with %d vectors the graph is kept", ix.Len("s"))
	}
}

func TestMemoryIndexGraphSkipsExpiredAndTombstones(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	clock := newSemClock()
	ix := NewMemoryIndex(MemoryIndexOptions{ExactLimit: 20, Now: clock.Now})
	ix.inlineBuilds = true
	defer ix.Close()
	vecs, _ := clusters(r, 100, 10, 32)
	for i, v := range vecs {
		ttl := time.Hour
		if i%2 == 0 {
			ttl = time.Minute
		}
		mustAdd(t, ix, "s", v, semKey(strconv.Itoa(i)), ttl)
	}
	clock.Advance(time.Minute)
	for i, v := range vecs {
		got, _ := search(t, ix, "s", v, -1)
		if !got.OK {
			t.Fatalf("vector %d: nothing found", i)
		}
		var j int
		for j = range vecs {
			if semKey(strconv.Itoa(j)) == got.Key {
				break
			}
		}
		if j%2 == 0 {
			t.Errorf("vector %d: found expired vector %d", i, j)
		}
	}
	if n := ix.Len("s"); n >= 100 {
		t.Errorf("Len = %d: searches removed none of the expired hits", n)
	}
}

func TestMemoryIndexBuildsInTheBackground(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	ix := NewMemoryIndex(MemoryIndexOptions{ExactLimit: 100})
	vecs, _ := clusters(r, 300, 10, 32)
	for i, v := range vecs {
		mustAdd(t, ix, "s", v, semKey(strconv.Itoa(i)), time.Hour)
		// Searches are right while the build runs.
		if got, _ := search(t, ix, "s", v, 0.999); got != (semHit{semKey(strconv.Itoa(i)), true}) {
			t.Fatalf("vector %d during the build: %+v", i, got)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for ok, _ := graphOf(ix, "s"); !ok; ok, _ = graphOf(ix, "s") {
		if time.Now().After(deadline) {
			t.Fatal("no graph 10s after passing ExactLimit")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got, _ := search(t, ix, "s", vecs[250], 0.999); got != (semHit{semKey("250"), true}) {
		t.Errorf("after the build: %+v", got)
	}
	// Close stops builds in flight and waits for them.
	for i := range 300 {
		mustAdd(t, ix, "other", randUnit(r, 32), semKey(strconv.Itoa(i)), time.Hour)
	}
	ix.Close()
}

// TestMemoryIndexConcurrentUse runs Adds, Searches, Removes and Purges
// together (for -race); every hit must belong to the scope searched.
func TestMemoryIndexConcurrentUse(t *testing.T) {
	ix := NewMemoryIndex(MemoryIndexOptions{ExactLimit: 40, MaxPerScope: 150})
	defer ix.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 9))
			scope := "scope" + strconv.Itoa(w%2)
			for i := range 400 {
				v := randUnit(r, 16)
				k := semKey(scope + "/" + strconv.Itoa(r.IntN(200)))
				switch i % 10 {
				case 0:
					ix.Remove(ctx, scope, k)
				case 1, 2, 3, 4:
					if err := ix.Add(ctx, scope, v, k, time.Hour); err != nil {
						t.Error(err)
						return
					}
				case 5:
					if w == 0 && i%200 == 5 {
						ix.Purge(ctx)
					}
				default:
					got, sim := search(t, ix, scope, v, 0.2)
					if got.OK && sim < 0.2 {
						t.Errorf("hit below the threshold: %v", sim)
					}
					if got.OK && !sameScope(got.Key, scope) {
						t.Errorf("scope %s returned a key of another scope", scope)
					}
				}
			}
		})
	}
	wg.Wait()
}

// sameScope reports whether k was made by the concurrent test for scope.
func sameScope(k Key, scope string) bool {
	for i := range 200 {
		if semKey(scope+"/"+strconv.Itoa(i)) == k {
			return true
		}
	}
	return false
}

func TestScopeIsUnambiguous(t *testing.T) {
	tests := []struct{ ns1, m1, ns2, m2 string }{
		{"a/b", "c", "a", "b/c"},
		{"", "1:x/y", "1:x", "y"},
		{"a", "", "", "a"},
		{"team", "gpt-4o", "team", "gpt-4o-mini"},
	}
	for _, tc := range tests {
		if Scope(tc.ns1, tc.m1) == Scope(tc.ns2, tc.m2) {
			t.Errorf("Scope(%q, %q) == Scope(%q, %q) = %q", tc.ns1, tc.m1, tc.ns2, tc.m2, Scope(tc.ns1, tc.m1))
		}
	}
	if got, want := Scope("team-a", "gpt-4o"), "6:team-a/gpt-4o"; got != want {
		t.Errorf("Scope = %q, want %q", got, want)
	}
}

func TestSemanticText(t *testing.T) {
	user := func(parts ...llm.Part) llm.Message { return llm.Message{Role: llm.RoleUser, Parts: parts} }
	text := llm.TextPart
	image := llm.Part{Kind: llm.PartImage, Media: &llm.Media{URL: "https://x/y.png"}}
	call := llm.Part{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "c1", Name: "weather", Arguments: `{"city":"Paris"}`}}
	result := llm.Part{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "c1", Name: "weather", Parts: []llm.Part{text("sunny")}}}
	conversation := []llm.Message{
		{Role: llm.RoleSystem, Parts: []llm.Part{text("Be brief.")}},
		user(text("Hi")),
		{Role: llm.RoleAssistant, Parts: []llm.Part{text("Hello!")}},
		user(text("What is"), image, text("in this picture?")),
	}
	tests := []struct {
		name, mode string
		msgs       []llm.Message
		want       string
	}{
		{"last user, multi-part", SemanticLastUser, conversation, "What is\nin this picture?"},
		{"last user, image only", SemanticLastUser, []llm.Message{user(image)}, ""},
		{"no user message", SemanticLastUser, []llm.Message{{Role: llm.RoleSystem, Parts: []llm.Part{text("x")}}}, ""},
		{"after a tool result", SemanticLastUser, []llm.Message{
			user(text("Weather in Paris?")),
			{Role: llm.RoleAssistant, Parts: []llm.Part{call}},
			{Role: llm.RoleTool, Parts: []llm.Part{result}},
		}, ""},
		{"tool result in a user message", SemanticLastUser, []llm.Message{user(result)}, ""},
		{"no messages", SemanticLastUser, nil, ""},
		{"conversation", SemanticConversation, conversation,
			"system: Be brief.\nuser: Hi\nassistant: Hello!\nuser: What is\nin this picture?\n"},
		{"conversation with tools", SemanticConversation, []llm.Message{
			user(text("Weather in Paris?")),
			{Role: llm.RoleAssistant, Parts: []llm.Part{text("Let me look."), call}},
			{Role: llm.RoleTool, Parts: []llm.Part{result}},
		}, "user: Weather in Paris?\nassistant: Let me look.\n[call weather {\"city\":\"Paris\"}]\ntool: [result weather] sunny\n"},
		{"conversation without text", SemanticConversation, []llm.Message{user(image)}, ""},
		{"unknown mode", "everything", conversation, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := SemanticText(&llm.Request{Messages: tc.msgs}, tc.mode)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if got := SemanticText(nil, SemanticLastUser); got != "" {
		t.Errorf("nil request: %q", got)
	}
}
