package mock

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEachWord(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"punctuation splits", "Hello, world!", []string{"hello", "world"}},
		{"apostrophes are dropped", "Don't stop — it’s fine", []string{"dont", "stop", "its", "fine"}},
		{"digits are letters", "GPT-4o in 2024", []string{"gpt", "4o", "in", "2024"}},
		{"unicode letters", "Ça VA, Straße", []string{"ça", "va", "straße"}},
		{"no words", " ?!… ", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			eachWord(tc.text, func(w string) { got = append(got, w) })
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("eachWord(%q) (-want +got):\n%s", tc.text, diff)
			}
		})
	}
}

func TestStem(t *testing.T) {
	tests := map[string]string{
		"capitals": "capital", "baking": "bak", "baked": "bak", "boxes": "box",
		"wishes": "wish", "bakes": "bake", "class": "class", "bus": "bus",
		"red": "red", "bread": "bread", "sing": "sing", "cats": "cat", "its": "its",
	}
	for in, want := range tests {
		if got := stem(in); got != want {
			t.Errorf("stem(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWordVectorStopWordsOnly(t *testing.T) {
	a, b := wordVector("the", 64), wordVector("it is", 64)
	if a == nil || b == nil || cmp.Equal(a, b) {
		t.Errorf("stop-word-only texts: %v and %v, want two different vectors", a, b)
	}
	if v := wordVector("...", 64); v != nil {
		t.Errorf("no words gave %v, want nil", v)
	}
}

// FuzzWordVector: any text and size give nil (then the seeded vector) or a
// finite unit vector of that size, and the same one twice.
func FuzzWordVector(f *testing.F) {
	for _, s := range []string{"What is the capital of France?", "the", "", "?!", "Don't", "a b", "Ça\u00a0va\xff"} {
		f.Add(s, 8)
	}
	f.Fuzz(func(t *testing.T, text string, dims int) {
		if dims < 1 || dims > maxDimensions {
			dims = 1 + (dims%maxDimensions+maxDimensions)%maxDimensions
		}
		v := wordVector(text, dims)
		var words int
		eachWord(text, func(w string) {
			words++
			if w == "" || strings.ContainsAny(w, "'’ ") {
				t.Errorf("bad word %q from %q", w, text)
			}
		})
		// A single word cannot cancel itself out; several can.
		if (v == nil) != (words == 0) && !(v == nil && words > 1) {
			t.Fatalf("%q (%d words) gave %v", text, words, v)
		}
		if v == nil {
			return
		}
		if len(v) != dims {
			t.Fatalf("%d dims, want %d", len(v), dims)
		}
		var sum float64
		for _, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("non-finite component in %v", v)
			}
			sum += float64(x) * float64(x)
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Fatalf("norm² %v, want 1", sum)
		}
		if !cmp.Equal(v, wordVector(text, dims)) {
			t.Fatalf("%q embedded twice differently", text)
		}
	})
}
