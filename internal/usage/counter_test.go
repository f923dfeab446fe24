package usage

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCounterExact(t *testing.T) {
	for _, tc := range []struct {
		name   string
		model  string
		chunks []string
		want   int
	}{
		{"nothing", "gpt-4o", nil, 0},
		{"empty chunks", "gpt-4o", []string{"", ""}, 0},
		{"one chunk", "gpt-4o", []string{"hello world"}, 2},
		{"split words", "gpt-4o", []string{"hel", "lo wo", "rld"}, 2},
		{"split inside a rune", "gpt-4", []string{"日本語の\xe3\x83", "\x86キスト"}, 8},
		{"cookbook sentence", "gpt-4", []string{"tiktoken", " is", " great!"}, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c Counter
			for _, s := range tc.chunks {
				c.Add(s)
			}
			if got := c.Tokens(tc.model); got != tc.want {
				t.Errorf("Tokens = %d, want %d", got, tc.want)
			}
			if got, want := c.Len(), int64(len(strings.Join(tc.chunks, ""))); got != want {
				t.Errorf("Len = %d, want %d", got, want)
			}
		})
	}
}

// TestCounterMemoFollowsModel guards the memo: a second model must not be
// answered with the first model's count.
func TestCounterMemoFollowsModel(t *testing.T) {
	var c Counter
	c.Add("日本語のテキスト")
	for _, step := range []struct {
		model string
		want  int
	}{{"gpt-4", 8}, {"gpt-4o", 6}, {"gpt-4", 8}} {
		if got := c.Tokens(step.model); got != step.want {
			t.Errorf("Tokens(%q) = %d, want %d", step.model, got, step.want)
		}
	}
	c.Add(" hello world")
	if got, want := c.Tokens("gpt-4"), CountText("gpt-4", "日本語のテキスト hello world"); got != want {
		t.Errorf("after more text: Tokens = %d, want %d", got, want)
	}
}

func TestCounterReset(t *testing.T) {
	var c Counter
	c.Add("hello world")
	_ = c.Tokens("gpt-4o")
	c.Reset()
	if got := c.Tokens("gpt-4o"); got != 0 {
		t.Errorf("after Reset: Tokens = %d, want 0", got)
	}
	if got := c.Len(); got != 0 {
		t.Errorf("after Reset: Len = %d, want 0", got)
	}
	c.Add("tiktoken is great!")
	if got := c.Tokens("gpt-4"); got != 6 {
		t.Errorf("reused: Tokens = %d, want 6", got)
	}
}

// TestCounterBeyondLimit feeds 2.5 MiB in chunks and checks that only
// CounterLimit bytes are kept, that the count follows the documented
// extrapolation exactly, and that it lands close to the true count.
func TestCounterBeyondLimit(t *testing.T) {
	const unit = "The quick brown fox jumps over the lazy dog; 42 times, or more. "
	total := CounterLimit*5/2 + 7
	text := strings.Repeat(unit, total/len(unit)+1)[:total]

	var c Counter
	for rest := text; rest != ""; {
		n := min(len(rest), 1000)
		c.Add(rest[:n])
		rest = rest[n:]
	}
	kept := c.kept.Len()
	if kept > CounterLimit || kept < CounterLimit-utf8.UTFMax {
		t.Fatalf("kept %d bytes, want about %d", kept, CounterLimit)
	}
	if c.Len() != int64(total) {
		t.Fatalf("Len = %d, want %d", c.Len(), total)
	}
	counted := CountText("gpt-4o", text[:kept])
	rest := int64(total - kept)
	want := counted + int((rest*int64(counted)*2+int64(kept))/(2*int64(kept)))
	got := c.Tokens("gpt-4o")
	if got != want {
		t.Errorf("Tokens = %d, want %d (counted %d of %d kept bytes, %d more extrapolated)", got, want, counted, kept, rest)
	}
	exact := CountText("gpt-4o", text)
	if diff := got - exact; diff < -exact/100 || diff > exact/100 {
		t.Errorf("extrapolated %d tokens, exact count %d: off by more than 1%%", got, exact)
	}
}

// TestCounterCutsAtRuneBoundary adds one string larger than the limit whose
// multi-byte runes straddle it: the kept text must stay valid UTF-8.
func TestCounterCutsAtRuneBoundary(t *testing.T) {
	text := "x" + strings.Repeat("語", CounterLimit/3+2) // 3-byte runes, offset by 1
	var c Counter
	c.Add(text)
	c.Add("more")
	kept := c.kept.String()
	if len(kept) > CounterLimit {
		t.Errorf("kept %d bytes, limit %d", len(kept), CounterLimit)
	}
	if !utf8.ValidString(kept) {
		t.Errorf("kept text ends in a broken rune: % x", kept[len(kept)-4:])
	}
	if !strings.HasPrefix(text, kept) {
		t.Errorf("kept text is not a prefix of the input")
	}
	if got, want := c.Len(), int64(len(text)+4); got != want {
		t.Errorf("Len = %d, want %d", got, want)
	}
}
