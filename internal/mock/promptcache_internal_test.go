package mock

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// checkList fails unless pm's recency list, walked from the head, holds
// every slot once, agrees with the index, and is linked both ways.
func checkList(t *testing.T, pm *promptMemory) {
	t.Helper()
	n, prev := 0, int32(-1)
	for i := pm.head; len(pm.slots) > 0 && i >= 0; i = pm.slots[i].next {
		if n++; n > len(pm.slots) {
			t.Fatalf("recency list has a cycle")
		}
		if pm.slots[i].prev != prev {
			t.Fatalf("slot %d: prev %d, want %d", i, pm.slots[i].prev, prev)
		}
		if j, ok := pm.index[pm.slots[i].key]; !ok || j != i {
			t.Fatalf("slot %d is indexed at %d (%v)", i, j, ok)
		}
		prev = i
	}
	if n != len(pm.slots) || len(pm.index) != n || (n > 0 && pm.tail != prev) {
		t.Fatalf("list of %d slots, %d indexed, %d slots, tail %d (want %d)", n, len(pm.index), len(pm.slots), pm.tail, prev)
	}
}

func TestPromptMemoryForgetsLeastRecentlyAnswered(t *testing.T) {
	var pm promptMemory
	h := func(i int) promptHash { return promptHash(mix(0, uint64(i))) }
	var got []bool
	for i := range maxRemembered {
		if pm.seen(apiOpenAI, h(i)) {
			t.Fatalf("prompt %d seen before it was sent", i)
		}
	}
	checkList(t, &pm)
	got = append(got,
		pm.seen(apiOpenAI, h(0)),             // true: refreshes 0, so 1 is now the oldest
		pm.seen(apiOpenAI, h(maxRemembered)), // false: evicts 1
		pm.seen(apiOpenAI, h(0)),             // true
		pm.seen(apiOpenAI, h(2)),             // true: refreshes 2
		pm.seen(apiOpenAI, h(1)),             // false: was evicted; evicts 3
		pm.seen(apiOpenAI, h(3)),             // false: evicts 4
		pm.seen(apiOpenAI, h(5)),             // true
	)
	checkList(t, &pm)
	if diff := cmp.Diff(got, []bool{true, false, true, true, false, false, true}); diff != "" {
		t.Errorf("seen (-got +want):\n%s", diff)
	}
	if len(pm.slots) != maxRemembered {
		t.Errorf("%d slots, want %d", len(pm.slots), maxRemembered)
	}
	pm.clear()
	checkList(t, &pm)
	if pm.seen(apiOpenAI, h(0)) || !pm.seen(apiOpenAI, h(0)) {
		t.Errorf("after clear: want unseen, then seen")
	}
	checkList(t, &pm)
}

func TestPromptMemoryKeepsAPIsApart(t *testing.T) {
	var pm promptMemory
	got := []bool{pm.seen(apiOpenAI, 7), pm.seen(apiGemini, 7), pm.seen(apiAnthropic, 7),
		pm.seen(apiOpenAI, 7), pm.seen(apiGemini, 7), pm.seen(apiAnthropic, 7)}
	if diff := cmp.Diff(got, []bool{false, false, false, true, true, true}); diff != "" {
		t.Errorf("seen (-got +want):\n%s", diff)
	}
	checkList(t, &pm)
}

// piece is one tagged piece of a prompt for the hash tests.
type piece struct {
	tag hashTag
	s   string
}

func hashOf(ps ...piece) promptHash {
	var h promptHash
	for _, p := range ps {
		h.add(p.tag, p.s)
	}
	return h
}

func TestPromptHashSeparatesPieces(t *testing.T) {
	tests := []struct {
		name string
		a, b []piece
	}{
		{"split point", []piece{{tagText, "ab"}, {tagText, "c"}}, []piece{{tagText, "a"}, {tagText, "bc"}}},
		{"order", []piece{{tagText, "a"}, {tagText, "b"}}, []piece{{tagText, "b"}, {tagText, "a"}}},
		{"tag", []piece{{tagMessage, "user"}, {tagText, "hi"}}, []piece{{tagMessage, "user"}, {tagToolResult, "hi"}}},
		{"role", []piece{{tagMessage, "user"}, {tagText, "hi"}}, []piece{{tagMessage, "assistant"}, {tagText, "hi"}}},
		{"empty piece", []piece{{tagText, "a"}}, []piece{{tagText, "a"}, {tagText, ""}}},
		{"model", []piece{{tagModel, "m1"}, {tagText, "a"}}, []piece{{tagModel, "m2"}, {tagText, "a"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if hashOf(tc.a...) == hashOf(tc.b...) {
				t.Errorf("%v and %v hash the same", tc.a, tc.b)
			}
		})
	}
}
