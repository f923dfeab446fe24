package cache

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// FuzzDecodeSemEvent: decoding arbitrary stream fields never panics, and
// whatever decodes encodes back to fields that decode to the same event.
func FuzzDecodeSemEvent(f *testing.F) {
	seeds := []semEvent{
		{op: semOpAdd, scope: "5:team1/gpt", key: semKey("a"), vec: []float32{0.5, -1, 3e-8}, expires: 1_700_000_000_000},
		{op: semOpDel, scope: "s", key: semKey("b")},
		{op: semOpPurge},
	}
	for _, ev := range seeds {
		fields := semFields(ev.values())
		str := func(name string) string { s, _ := fields[name].(string); return s }
		_, hasOp := fields["op"]
		f.Add(hasOp, str("op"), str("scope"), str("key"), str("vec"), str("expires"))
	}
	f.Add(true, "explode", "", "", "", "")
	f.Add(false, "", "s", semKey("c").String(), "abc", "-1")
	f.Fuzz(func(t *testing.T, hasOp bool, op, scope, key, vec, expires string) {
		values := map[string]any{"scope": scope, "key": key, "vec": vec, "expires": expires}
		if hasOp {
			values["op"] = op
		}
		ev, err := decodeSemEvent(values)
		if err != nil {
			return
		}
		again, err := decodeSemEvent(semFields(ev.values()))
		if err != nil {
			t.Fatalf("re-decoding %+v: %v", ev, err)
		}
		if diff := cmp.Diff(ev, again, cmp.AllowUnexported(semEvent{}), cmp.Comparer(sameFloatBits)); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

// semFields turns XADD arguments into the map XREAD gives back.
func semFields(args []any) map[string]any {
	out := map[string]any{}
	for i := 0; i < len(args); i += 2 {
		var v string
		switch x := args[i+1].(type) {
		case string:
			v = x
		case []byte:
			v = string(x)
		case int64:
			v = strconv.FormatInt(x, 10)
		}
		out[args[i].(string)] = v
	}
	return out
}

// sameFloatBits compares floats by their bits, so NaNs round-trip.
func sameFloatBits(a, b float32) bool {
	return a == b || a != a && b != b
}

// FuzzScope: different (namespace, model) pairs never share a scope.
func FuzzScope(f *testing.F) {
	f.Add("a/b", "c", "a", "b/c")
	f.Add("1:", "x", "", "1:x")
	f.Fuzz(func(t *testing.T, ns1, m1, ns2, m2 string) {
		if (Scope(ns1, m1) == Scope(ns2, m2)) != (ns1 == ns2 && m1 == m2) {
			t.Errorf("Scope(%q, %q) = %q, Scope(%q, %q) = %q", ns1, m1, Scope(ns1, m1), ns2, m2, Scope(ns2, m2))
		}
	})
}

// semModelEntry is the reference model's view of one stored vector.
type semModelEntry struct {
	unit []float32
	exp  int64
}

// FuzzMemoryIndex runs a byte-coded sequence of Adds, Removes, Searches,
// clock steps and Purges against a MemoryIndex and a brute-force model.
// Exact scopes must give the model's answer (same best similarity, a key
// holding it); with a graph (ExactLimit 4) every hit must at least be a
// live vector of the scope with the similarity reported.
func FuzzMemoryIndex(f *testing.F) {
	f.Add([]byte{0, 1, 2, 10, 20, 30, 40, 50, 3, 0, 10, 20, 30, 40}, false)
	f.Add([]byte{0, 1, 2, 10, 20, 30, 40, 9, 2, 200, 0, 1, 3, 1, 2, 3, 4, 1, 0, 2, 3, 0, 1, 2, 3, 4}, true)
	f.Fuzz(func(t *testing.T, ops []byte, graph bool) {
		clock := newSemClock()
		o := MemoryIndexOptions{Now: clock.Now}
		if graph {
			o.ExactLimit = 4
		}
		ix := NewMemoryIndex(o)
		ix.inlineBuilds = true
		defer ix.Close()
		model := map[string]map[Key]semModelEntry{}
		ctx := context.Background()
		next := func() byte {
			if len(ops) == 0 {
				return 0
			}
			b := ops[0]
			ops = ops[1:]
			return b
		}
		vector := func() []float32 {
			v := make([]float32, 4)
			for i := range v {
				v[i] = float32(int8(next())) / 16
			}
			return v
		}
		for len(ops) > 0 {
			op, arg := next(), next()
			scope, k := "s"+strconv.Itoa(int(arg%3)), semKey(strconv.Itoa(int(arg/3%8)))
			switch op % 5 {
			case 0: // add
				v, ttl := vector(), time.Duration(1+next()%4)*time.Minute
				err := ix.Add(ctx, scope, v, k, ttl)
				norm, bad := vectorNorm(v)
				if (err != nil) != (bad != nil) || err != nil && !errors.Is(err, ErrBadVector) {
					t.Fatalf("Add(%v) = %v, want error %v", v, err, bad)
				}
				if err == nil {
					if model[scope] == nil {
						model[scope] = map[Key]semModelEntry{}
					}
					model[scope][k] = semModelEntry{normalized(v, norm), clock.Now().Add(ttl).UnixNano()}
				}
			case 1:
				if err := ix.Remove(ctx, scope, k); err != nil {
					t.Fatal(err)
				}
				delete(model[scope], k)
			case 2:
				clock.Advance(time.Duration(next()) * time.Second)
			case 3:
				if arg == 255 {
					ix.Purge(ctx)
					model = map[string]map[Key]semModelEntry{}
				}
			case 4: // search
				q, min := vector(), float32(int8(next()))/128
				checkSemSearch(t, ix, model[scope], scope, q, min, clock.Now().UnixNano(), graph)
			}
		}
	})
}

// checkSemSearch compares one Search with the model's entries of scope.
func checkSemSearch(t *testing.T, ix *MemoryIndex, entries map[Key]semModelEntry, scope string, q []float32, min float32, now int64, graph bool) {
	t.Helper()
	k, sim, ok, err := ix.Search(context.Background(), scope, q, min)
	norm, bad := vectorNorm(q)
	if bad != nil {
		if !errors.Is(err, ErrBadVector) {
			t.Fatalf("Search(%v) = %v, want ErrBadVector", q, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("Search(%v): %v", q, err)
	}
	// The index computes dot(q, unit)/|q| in float32; so does the model.
	simOf := func(e semModelEntry) float32 { return clampSim(dotF32(q, e.unit) * float32(1/norm)) }
	best, found := float32(-2), false
	for _, e := range entries {
		if e.exp > now {
			best, found = max(best, simOf(e)), true
		}
	}
	if ok {
		e, live := entries[k]
		switch {
		case !live || e.exp <= now:
			t.Fatalf("Search returned %v, which is not live in %s", k, scope)
		case simOf(e) != sim || sim < min:
			t.Fatalf("Search returned %v with similarity %v (min %v); it has %v", k, sim, min, simOf(e))
		}
	}
	if graph {
		return
	}
	if wantOK := found && best >= min; ok != wantOK || found && sim != best {
		t.Fatalf("Search(%v, min %v) = %v, %v; the best live similarity is %v (found %v)", q, min, sim, ok, best, found)
	}
}
