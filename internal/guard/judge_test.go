package guard

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// judgeParseCases are the verdict parser table, also the seeds of
// FuzzJudgeParse.
var judgeParseCases = []struct {
	name   string
	answer string
	unsafe bool
	cats   []string
	bad    bool
}{
	{name: "safe", answer: "safe"},
	{name: "safe upper with newline", answer: "  SAFE\n"},
	{name: "safe with explanation", answer: "Safe. The text is a recipe."},
	{name: "safe bold", answer: "**safe**"},
	{name: "unsafe no categories", answer: "unsafe", unsafe: true},
	{name: "llama guard", answer: "unsafe\nS1,S10", unsafe: true, cats: []string{"S1", "S10"}},
	{name: "llama guard crlf and spaces", answer: "\r\nunsafe\r\n\r\nS1, S10 \r\n", unsafe: true, cats: []string{"S1", "S10"}},
	{name: "colon form", answer: "UNSAFE: violence", unsafe: true, cats: []string{"violence"}},
	{name: "dash form", answer: "Unsafe - S2; S3.", unsafe: true, cats: []string{"S2", "S3"}},
	{name: "em dash", answer: "unsafe—hate speech", unsafe: true, cats: []string{"hate speech"}},
	{name: "duplicates dropped", answer: "unsafe\nS1,S1,,S2", unsafe: true, cats: []string{"S1", "S2"}},
	{name: "later lines ignored", answer: "unsafe\nS1\nThe user asks for weapons.", unsafe: true, cats: []string{"S1"}},
	{name: "fenced text", answer: "```\nunsafe\nS9\n```", unsafe: true, cats: []string{"S9"}},
	{name: "json unsafe", answer: `{"safe": false, "categories": ["S1", "violence"]}`, unsafe: true, cats: []string{"S1", "violence"}},
	{name: "json safe ignores categories", answer: `{"safe": true, "categories": ["S1"]}`},
	{name: "json unsafe member", answer: `{"unsafe": true}`, unsafe: true},
	{name: "fenced json", answer: "```json\n{\"safe\":false,\"categories\":[\"S5\"]}\n```", unsafe: true, cats: []string{"S5"}},
	{name: "empty", answer: "", bad: true},
	{name: "binary garbage", answer: "\x00\x85\xa0\xaa\xcf0\xbf\xf0\xe80\x9a\xb0\xa8\xba\xe3\xfe\xfd\x11\xb2\xa8\x1d\x87\x8c\x1c\xdc0\xaa\xcb", bad: true},
	{name: "whitespace", answer: " \n\t", bad: true},
	{name: "prose", answer: "The text is safe.", bad: true},
	{name: "not safe", answer: "not safe", bad: true},
	{name: "unsafety", answer: "unsafety", bad: true},
	{name: "safe with digit", answer: "safe1", bad: true},
	{name: "safe glued to letter", answer: "safeé", bad: true},
	{name: "json without verdict", answer: `{"categories": ["S1"]}`, bad: true},
	{name: "json bad type", answer: `{"safe": "no"}`, bad: true},
	{name: "json categories not strings", answer: `{"safe": false, "categories": [1]}`, bad: true},
	{name: "broken json", answer: `{"safe": false`, bad: true},
	{name: "category too long", answer: "unsafe\n" + strings.Repeat("x", 65), bad: true},
	{name: "too many categories", answer: "unsafe\n" + judgeManyCategories(33), bad: true},
	{name: "most categories", answer: "unsafe\n" + judgeManyCategories(32), unsafe: true, cats: strings.Split(judgeManyCategories(32), ",")},
}

// judgeManyCategories returns "c0,c1,…" with n distinct categories.
func judgeManyCategories(n int) string {
	cats := make([]string, n)
	for i := range cats {
		cats[i] = "c" + strconv.Itoa(i)
	}
	return strings.Join(cats, ",")
}

func TestParseJudgeVerdict(t *testing.T) {
	for _, tc := range judgeParseCases {
		t.Run(tc.name, func(t *testing.T) {
			unsafe, cats, err := parseJudgeVerdict(tc.answer)
			if tc.bad {
				if !errors.Is(err, ErrJudgeVerdict) {
					t.Fatalf("err = %v, want ErrJudgeVerdict (got unsafe=%v cats=%q)", err, unsafe, cats)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if unsafe != tc.unsafe {
				t.Errorf("unsafe = %v, want %v", unsafe, tc.unsafe)
			}
			if diff := cmp.Diff(tc.cats, cats); diff != "" {
				t.Errorf("categories (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseJudgeVerdictErrorIsShort(t *testing.T) {
	_, _, err := parseJudgeVerdict("I think " + strings.Repeat("very ", 1000) + "long")
	if err == nil || len(err.Error()) > 120 {
		t.Errorf("err = %.200v (%d bytes), want a short error", err, len(err.Error()))
	}
}

// judgeFake is an Ask that answers a fixed text and counts its calls.
type judgeFake struct {
	answer string
	err    error
	calls  atomic.Int32
	mu     sync.Mutex
	last   string // last prompt
}

func (f *judgeFake) ask(_ context.Context, prompt string) (string, error) {
	f.calls.Add(1)
	f.mu.Lock()
	f.last = prompt
	f.mu.Unlock()
	return f.answer, f.err
}

func judgeMust(t *testing.T, o JudgeOptions) *Judge {
	t.Helper()
	j, err := NewJudge(o)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestJudgeActions(t *testing.T) {
	cats := map[string]string{"S1": "block", "s2": "flag", "Violence": "redact", "S3": "flag"}
	cases := []struct {
		name, answer, defaultAction string
		want                        Verdict
	}{
		{name: "safe", answer: "safe", want: Verdict{}},
		{name: "mapped block", answer: "unsafe\nS1", want: Verdict{Unsafe: true, Categories: []string{"S1"}, Action: "block"}},
		{name: "mapped flag, case-insensitive", answer: "unsafe\nS2", want: Verdict{Unsafe: true, Categories: []string{"S2"}, Action: "flag"}},
		{name: "redact is block", answer: "UNSAFE: violence", want: Verdict{Unsafe: true, Categories: []string{"violence"}, Action: "block"}},
		{name: "strictest wins", answer: "unsafe\nS2,S1", want: Verdict{Unsafe: true, Categories: []string{"S2", "S1"}, Action: "block"}},
		{name: "all flag", answer: "unsafe\nS2,S3", want: Verdict{Unsafe: true, Categories: []string{"S2", "S3"}, Action: "flag"}},
		{name: "unknown uses default block", answer: "unsafe\nS7", want: Verdict{Unsafe: true, Categories: []string{"S7"}, Action: "block"}},
		{name: "unknown uses default flag", answer: "unsafe\nS7", defaultAction: "flag", want: Verdict{Unsafe: true, Categories: []string{"S7"}, Action: "flag"}},
		{name: "unknown beside flag, default block", answer: "unsafe\nS2,S7", want: Verdict{Unsafe: true, Categories: []string{"S2", "S7"}, Action: "block"}},
		{name: "no categories uses default", answer: "unsafe", defaultAction: "flag", want: Verdict{Unsafe: true, Action: "flag"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &judgeFake{answer: tc.answer}
			j := judgeMust(t, JudgeOptions{Ask: f.ask, Categories: cats, DefaultAction: tc.defaultAction})
			got := j.Check(context.Background(), "some text")
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(judgeSameErr)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// judgeSameErr compares errors by presence only.
func judgeSameErr(a, b error) bool { return (a == nil) == (b == nil) }

func TestJudgePrompt(t *testing.T) {
	f := &judgeFake{answer: "safe"}
	j := judgeMust(t, JudgeOptions{Ask: f.ask, Prompt: "[{{role}}] judge: {{text}}"})
	j.CheckRole(context.Background(), "Agent", "hi {{role}} {{text}}")
	if want := "[Agent] judge: hi {{role}} {{text}}"; f.last != want {
		t.Errorf("prompt = %q, want %q (text must not be expanded)", f.last, want)
	}

	j = judgeMust(t, JudgeOptions{Ask: f.ask})
	j.Check(context.Background(), "how do I bake bread")
	if !strings.Contains(f.last, "User: how do I bake bread") || strings.Contains(f.last, "{{") {
		t.Errorf("default prompt not rendered: %q", f.last)
	}
}

func TestJudgeFailures(t *testing.T) {
	boom := errors.New("provider down")
	cases := []struct {
		name    string
		ask     func(context.Context, string) (string, error)
		wantErr error
	}{
		{"ask error", func(context.Context, string) (string, error) { return "", boom }, boom},
		{"unrecognised answer", func(context.Context, string) (string, error) { return "maybe?", nil }, ErrJudgeVerdict},
		{"ask panics", func(context.Context, string) (string, error) { panic("bad provider") }, nil},
		{"timeout", func(ctx context.Context, _ string) (string, error) {
			<-ctx.Done()
			return "", ctx.Err()
		}, context.DeadlineExceeded},
	}
	for _, tc := range cases {
		for _, failOpen := range []bool{true, false} {
			name := tc.name + "/fail-closed"
			if failOpen {
				name = tc.name + "/fail-open"
			}
			t.Run(name, func(t *testing.T) {
				j := judgeMust(t, JudgeOptions{Ask: tc.ask, FailOpen: failOpen, Timeout: 20 * time.Millisecond})
				v := j.Check(context.Background(), "text")
				if v.Err == nil || (tc.wantErr != nil && !errors.Is(v.Err, tc.wantErr)) {
					t.Fatalf("Err = %v, want %v", v.Err, tc.wantErr)
				}
				if v.Unsafe || v.Cached {
					t.Errorf("Unsafe = %v, Cached = %v; want false, false", v.Unsafe, v.Cached)
				}
				wantAction, wantFindings := "block", []Finding{{Kind: "judge_error", End: 4, Score: 1}}
				if failOpen {
					wantAction, wantFindings = "", nil
				}
				if v.Action != wantAction {
					t.Errorf("Action = %q, want %q", v.Action, wantAction)
				}
				if diff := cmp.Diff(wantFindings, v.Findings(nil, 4)); diff != "" {
					t.Errorf("findings (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestJudgeTimeoutWhenAskIgnoresContext(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	ask := func(context.Context, string) (string, error) {
		<-release
		return "safe", nil
	}
	j := judgeMust(t, JudgeOptions{Ask: ask, Timeout: 10 * time.Millisecond})
	start := time.Now()
	v := j.Check(context.Background(), "text")
	if !errors.Is(v.Err, context.DeadlineExceeded) || v.Action != "block" {
		t.Errorf("verdict = %+v, want a blocking deadline error", v)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Check took %v despite a 10ms timeout", d)
	}
}

func TestJudgeCache(t *testing.T) {
	f := &judgeFake{answer: "unsafe\nS1"}
	now := time.Unix(1000, 0)
	j := judgeMust(t, JudgeOptions{Ask: f.ask, CacheTTL: time.Minute})
	j.now = func() time.Time { return now }
	ctx := context.Background()

	first := j.Check(ctx, "bad text")
	second := j.Check(ctx, "bad text")
	if n := f.calls.Load(); n != 1 {
		t.Fatalf("Ask called %d times for the same text, want 1", n)
	}
	if first.Cached || !second.Cached {
		t.Errorf("Cached = %v, %v; want false, true", first.Cached, second.Cached)
	}
	first.Cached = true
	if diff := cmp.Diff(first, second, cmp.Comparer(judgeSameErr)); diff != "" {
		t.Errorf("cached verdict differs (-first +second):\n%s", diff)
	}
	second.Categories[0] = "changed" // callers own the slice
	if v := j.Check(ctx, "bad text"); v.Categories[0] != "S1" {
		t.Errorf("cache entry changed through a returned slice: %q", v.Categories)
	}

	j.CheckRole(ctx, "Agent", "bad text")
	if n := f.calls.Load(); n != 2 {
		t.Errorf("Ask called %d times, want 2: a different role is a different key", n)
	}

	now = now.Add(time.Minute)
	if v := j.Check(ctx, "bad text"); v.Cached {
		t.Error("verdict served after its TTL")
	}
	if n := f.calls.Load(); n != 3 {
		t.Errorf("Ask called %d times after expiry, want 3", n)
	}
}

func TestJudgeCacheSkipsFailures(t *testing.T) {
	f := &judgeFake{answer: "hmm"}
	j := judgeMust(t, JudgeOptions{Ask: f.ask})
	j.Check(context.Background(), "x")
	if v := j.Check(context.Background(), "x"); v.Cached || f.calls.Load() != 2 {
		t.Errorf("failed verdict cached: Cached = %v, calls = %d", v.Cached, f.calls.Load())
	}
}

func TestJudgeCacheOff(t *testing.T) {
	f := &judgeFake{answer: "safe"}
	j := judgeMust(t, JudgeOptions{Ask: f.ask, CacheSize: -1})
	j.Check(context.Background(), "x")
	if v := j.Check(context.Background(), "x"); v.Cached || f.calls.Load() != 2 {
		t.Errorf("cache off but Cached = %v, calls = %d", v.Cached, f.calls.Load())
	}
}

func TestJudgeCacheNoExpiry(t *testing.T) {
	f := &judgeFake{answer: "safe"}
	now := time.Unix(0, 0)
	j := judgeMust(t, JudgeOptions{Ask: f.ask, CacheTTL: -1})
	j.now = func() time.Time { return now }
	j.Check(context.Background(), "x")
	now = now.Add(1000 * time.Hour)
	if v := j.Check(context.Background(), "x"); !v.Cached {
		t.Error("negative TTL: verdict expired")
	}
}

func TestNewJudgeErrors(t *testing.T) {
	ask := (&judgeFake{}).ask
	cases := []struct {
		name    string
		opts    JudgeOptions
		wantSub string
	}{
		{"no ask", JudgeOptions{}, "ask is required"},
		{"prompt without text", JudgeOptions{Ask: ask, Prompt: "is it safe?"}, "{{text}}"},
		{"bad default action", JudgeOptions{Ask: ask, DefaultAction: "nuke"}, "default_action"},
		{"bad category action", JudgeOptions{Ask: ask, Categories: map[string]string{"S1": "allow"}}, `categories["S1"]`},
		{"empty category action", JudgeOptions{Ask: ask, Categories: map[string]string{"S1": ""}}, "required"},
		{"empty category code", JudgeOptions{Ask: ask, Categories: map[string]string{" ": "block"}}, "empty category"},
		{"conflicting codes", JudgeOptions{Ask: ask, Categories: map[string]string{"s1": "block", "S1": "flag"}}, "twice"},
		{"negative timeout", JudgeOptions{Ask: ask, Timeout: -time.Second}, "timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewJudge(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.wantSub) {
				t.Errorf("err = %v, want one containing %q", err, tc.wantSub)
			}
		})
	}
}

func TestVerdictFindings(t *testing.T) {
	cases := []struct {
		name string
		v    Verdict
		want []Finding
	}{
		{"safe", Verdict{}, nil},
		{"unsafe without categories", Verdict{Unsafe: true, Action: "block"}, []Finding{{Kind: "judge", End: 9, Score: 1}}},
		{"unsafe with categories", Verdict{Unsafe: true, Categories: []string{"S1", "S2"}, Action: "flag"},
			[]Finding{{Kind: "judge:S1", End: 9, Score: 1}, {Kind: "judge:S2", End: 9, Score: 1}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.v.Findings(nil, 9)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzJudgeParse(f *testing.F) {
	for _, tc := range judgeParseCases {
		f.Add(tc.answer)
	}
	f.Fuzz(func(t *testing.T, answer string) {
		unsafe, cats, err := parseJudgeVerdict(answer)
		if err != nil {
			if !errors.Is(err, ErrJudgeVerdict) || unsafe || cats != nil {
				t.Fatalf("bad failure: %v, %v, %q", err, unsafe, cats)
			}
			if len(err.Error()) > 220 { // the excerpt is 32 bytes, quoted

				t.Fatalf("error is %d bytes long", len(err.Error()))
			}
			return
		}
		if !unsafe && cats != nil {
			t.Fatalf("safe verdict with categories %q", cats)
		}
		if len(cats) > judgeMaxCategories {
			t.Fatalf("%d categories", len(cats))
		}
		seen := map[string]bool{}
		for _, c := range cats {
			if c == "" || len(c) > judgeMaxCategoryLen || seen[c] || c != strings.TrimSpace(c) {
				t.Fatalf("bad category %q in %q", c, cats)
			}
			seen[c] = true
		}
	})
}

func BenchmarkJudgeCheckCached(b *testing.B) {
	f := &judgeFake{answer: "unsafe\nS1"}
	j, err := NewJudge(JudgeOptions{Ask: f.ask})
	if err != nil {
		b.Fatal(err)
	}
	text := strings.Repeat("a fairly ordinary user message ", 64) // 2 KB
	ctx := context.Background()
	j.Check(ctx, text)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if v := j.Check(ctx, text); !v.Cached {
			b.Fatal("not cached")
		}
	}
}
