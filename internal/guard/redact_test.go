package guard

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// redactTestFindings returns one finding per occurrence of each value in
// text, sorted, as a detector would.
func redactTestFindings(text string, kinds map[string]string) []Finding {
	var fs []Finding
	for i := 0; i < len(text); {
		best := ""
		for v := range kinds {
			if strings.HasPrefix(text[i:], v) && len(v) > len(best) {
				best = v
			}
		}
		if best == "" {
			i++
			continue
		}
		fs = append(fs, Finding{Kind: kinds[best], Start: i, End: i + len(best), Score: 1})
		i += len(best)
	}
	return fs
}

func TestRedactRoundTrip(t *testing.T) {
	kinds := map[string]string{
		"bob@example.com":         "email",
		"eve@example.org":         "email",
		"4111 1111 1111 1111":     "card",
		"sk-ABCDEFGHIJKLMNOPQRST": "openai_key",
		"Paris":                   "topic:travel",
		"weird":                   "",
	}
	cases := []struct {
		name, text, want string
	}{
		{
			name: "several kinds",
			text: "mail bob@example.com, card 4111 1111 1111 1111, key sk-ABCDEFGHIJKLMNOPQRST.",
			want: "mail [EMAIL_1], card [CARD_1], key [OPENAI_KEY_1].",
		},
		{
			name: "repeated values keep one placeholder",
			text: "bob@example.com eve@example.org bob@example.com eve@example.org",
			want: "[EMAIL_1] [EMAIL_2] [EMAIL_1] [EMAIL_2]",
		},
		{
			name: "label from odd kinds",
			text: "to Paris, weird",
			want: "to [TOPIC_TRAVEL_1], [REDACTED_1]",
		},
		{
			name: "finding at both ends",
			text: "bob@example.com and eve@example.org",
			want: "[EMAIL_1] and [EMAIL_2]",
		},
		{
			name: "adjacent findings",
			text: "bob@example.comeve@example.org",
			want: "[EMAIL_1][EMAIL_2]",
		},
		{
			name: "text already holding brackets",
			text: "[x] bob@example.com [EMAIL_7] [",
			want: "[x] [EMAIL_1] [EMAIL_7] [",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRedactor()
			got := r.Redact(tc.text, redactTestFindings(tc.text, kinds))
			if got != tc.want {
				t.Fatalf("Redact = %q, want %q", got, tc.want)
			}
			if back := r.Restore(got); back != tc.text {
				t.Fatalf("Restore = %q, want %q", back, tc.text)
			}
		})
	}
}

func TestRedactPlaceholdersStableAcrossCalls(t *testing.T) {
	r := NewRedactor()
	email := func(text string) []Finding {
		i := strings.Index(text, "@")
		s := strings.LastIndexByte(text[:i], ' ') + 1
		e := strings.IndexByte(text[i:], ' ')
		if e < 0 {
			e = len(text) - i
		}
		return []Finding{{Kind: "email", Start: s, End: i + e}}
	}
	turns := []struct{ in, want string }{
		{"write to a@x.io please", "write to [EMAIL_1] please"},
		{"no, to b@x.io", "no, to [EMAIL_2]"},
		{"sorry, a@x.io it is", "sorry, [EMAIL_1] it is"},
	}
	for i, turn := range turns {
		if got := r.Redact(turn.in, email(turn.in)); got != turn.want {
			t.Fatalf("turn %d: Redact = %q, want %q", i, got, turn.want)
		}
	}
	if r.Len() != 2 {
		t.Fatalf("Len = %d, want 2", r.Len())
	}
	if got, want := r.Restore("[EMAIL_2] then [EMAIL_1]"), "b@x.io then a@x.io"; got != want {
		t.Fatalf("Restore = %q, want %q", got, want)
	}
}

func TestRedactUnsortedOverlappingAndOutOfRange(t *testing.T) {
	text := "0123456789abcdef"
	cases := []struct {
		name string
		fs   []Finding
		want string
	}{
		{"unsorted", []Finding{{Kind: "b", Start: 10, End: 12}, {Kind: "a", Start: 2, End: 4}}, "01[A_1]456789[B_1]cdef"},
		{"overlapping merged under the first", []Finding{{Kind: "a", Start: 2, End: 6}, {Kind: "b", Start: 4, End: 9}}, "01[A_1]9abcdef"},
		{"contained", []Finding{{Kind: "a", Start: 2, End: 9}, {Kind: "b", Start: 4, End: 5}}, "01[A_1]9abcdef"},
		{"clipped to text", []Finding{{Kind: "a", Start: -3, End: 2}, {Kind: "b", Start: 14, End: 99}}, "[A_1]23456789abcd[B_1]"},
		{"empty and outside dropped", []Finding{{Kind: "a", Start: 3, End: 3}, {Kind: "b", Start: 20, End: 30}}, text},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRedactor()
			orig := append([]Finding(nil), tc.fs...)
			if got := r.Redact(text, tc.fs); got != tc.want {
				t.Fatalf("Redact = %q, want %q", got, tc.want)
			}
			if diff := cmp.Diff(tc.fs, orig); diff != "" {
				t.Fatalf("Redact changed the caller's findings (-got +want):\n%s", diff)
			}
			if back := r.Restore(tc.want); back != text {
				t.Fatalf("Restore = %q, want %q", back, text)
			}
		})
	}
}

func TestRedactLabel(t *testing.T) {
	cases := map[string]string{
		"email":         "EMAIL",
		"openai_key":    "OPENAI_KEY",
		"topic:weather": "TOPIC_WEATHER",
		"Deny-List 2":   "DENY_LIST_2",
		"café":          "CAF_",
		"":              "REDACTED",
	}
	for kind, want := range cases {
		if got := redactLabel(kind); got != want {
			t.Errorf("redactLabel(%q) = %q, want %q", kind, got, want)
		}
	}
}

func TestRestoreOnlyIssuedPlaceholders(t *testing.T) {
	r := NewRedactor()
	r.Redact("a@x.io", []Finding{{Kind: "email", Start: 0, End: 6}})
	cases := map[string]string{
		"[EMAIL_1]":              "a@x.io",
		"[EMAIL_9]":              "[EMAIL_9]",
		"[email_1]":              "[email_1]",
		"[EMAIL_1":               "[EMAIL_1",
		"EMAIL_1]":               "EMAIL_1]",
		"[[EMAIL_1]]":            "[a@x.io]",
		"[EMAIL_10]":             "[EMAIL_10]",
		"[ EMAIL_1]":             "[ EMAIL_1]",
		"x[EMAIL_1]y[EMAIL_1]":   "xa@x.ioya@x.io",
		"[CARD_1] and [EMAIL_1]": "[CARD_1] and a@x.io",
		"":                       "",
	}
	for in, want := range cases {
		if got := r.Restore(in); got != want {
			t.Errorf("Restore(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRestoreValueNotRescanned(t *testing.T) {
	r := NewRedactor()
	// The first value looks like the second placeholder.
	text := "[SECRET_2] and b"
	red := r.Redact(text, []Finding{{Kind: "secret", Start: 0, End: 10}, {Kind: "secret", Start: 15, End: 16}})
	if red != "[SECRET_1] and [SECRET_2]" {
		t.Fatalf("Redact = %q", red)
	}
	if got := r.Restore(red); got != text {
		t.Fatalf("Restore = %q, want %q", got, text)
	}
}

func TestRedactFastPathsDoNotAllocate(t *testing.T) {
	r := NewRedactor()
	r.Redact("a@x.io", []Finding{{Kind: "email", Start: 0, End: 6}})
	text := strings.Repeat("plain prose with [brackets] and [EMAIL_9] but nothing issued. ", 8)
	empty := NewRedactor()
	cases := map[string]func(){
		"Redact without findings":      func() { _ = r.Redact(text, nil) },
		"Restore without placeholders": func() { _ = r.Restore(text) },
		"Restore on empty Redactor":    func() { _ = empty.Restore(text) },
	}
	for name, f := range cases {
		if n := testing.AllocsPerRun(50, f); n != 0 {
			t.Errorf("%s: %v allocations, want 0", name, n)
		}
	}
	if got := r.Restore(text); got != text {
		t.Fatalf("Restore changed text without issued placeholders: %q", got)
	}
}

// TestRedactorReapply hides the redacted values in a text that was not
// redacted itself (a logged payload), and leaves other text alone.
func TestRedactorReapply(t *testing.T) {
	r := NewRedactor()
	text := "mail ann@example.com or ann@example.com.au"
	fs := []Finding{{Kind: "email", Start: 5, End: 20}, {Kind: "email", Start: 24, End: 42}}
	if got := r.Redact(text, fs); got != "mail [EMAIL_1] or [EMAIL_2]" {
		t.Fatalf("Redact = %q", got)
	}
	body := `{"content":"mail ann@example.com or ann@example.com.au, not bob@example.com"}`
	want := `{"content":"mail [EMAIL_1] or [EMAIL_2], not bob@example.com"}`
	if got := r.Reapply(body); got != want {
		t.Errorf("Reapply = %q; want %q", got, want)
	}
	if got := NewRedactor().Reapply(body); got != body {
		t.Errorf("Reapply with nothing redacted changed the text: %q", got)
	}
}
