package guard

import (
	"errors"
	"regexp/syntax"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
)

// rulesFindCases are the Find table, also the seeds of FuzzRulesFind.
var rulesFindCases = []struct {
	name string
	opts RulesOptions
	text string
	want []Finding
}{
	{
		name: "deny match",
		opts: RulesOptions{Deny: []string{`(?i)drop\s+table`}},
		text: "please DROP  TABLE users",
		want: []Finding{{Kind: "deny", Start: 7, End: 18, Score: 1}},
	},
	{
		name: "deny every match",
		opts: RulesOptions{Deny: []string{`\d{3}`}},
		text: "a 123 b 456",
		want: []Finding{{Kind: "deny", Start: 2, End: 5, Score: 1}, {Kind: "deny", Start: 8, End: 11, Score: 1}},
	},
	{
		name: "deny near miss",
		opts: RulesOptions{Deny: []string{`drop\s+table`}},
		text: "droptable and drop-table",
	},
	{
		name: "deny ignores empty matches",
		opts: RulesOptions{Deny: []string{`x*`}},
		text: "abc",
	},
	{
		name: "allow matched",
		opts: RulesOptions{Allow: []string{`^translate:`, `^summarise:`}},
		text: "summarise: the report",
	},
	{
		name: "allow matches none",
		opts: RulesOptions{Allow: []string{`^translate:`, `^summarise:`}},
		text: "write a poem",
		want: []Finding{{Kind: "not_allowed", Start: 0, End: 12, Score: 1}},
	},
	{
		name: "allow empty text",
		opts: RulesOptions{Allow: []string{`^translate:`}},
		text: "",
		want: []Finding{{Kind: "not_allowed", Score: 1}},
	},
	{
		name: "keyword whole word",
		opts: RulesOptions{Keywords: []string{"class"}},
		text: "a class, classic, subclass, class_name, (class)",
		want: []Finding{{Kind: "keyword", Start: 2, End: 7, Score: 1}, {Kind: "keyword", Start: 41, End: 46, Score: 1}},
	},
	{
		name: "keyword case-insensitive",
		opts: RulesOptions{Keywords: []string{"Secret"}},
		text: "SECRET secret sEcReT",
		want: []Finding{{Kind: "keyword", Start: 0, End: 6, Score: 1}, {Kind: "keyword", Start: 7, End: 13, Score: 1}, {Kind: "keyword", Start: 14, End: 20, Score: 1}},
	},
	{
		name: "keyword unicode folding and boundaries",
		opts: RulesOptions{Keywords: []string{"café", "straße"}},
		text: "CAFÉ! cafés STRASSE Straße",
		want: []Finding{{Kind: "keyword", Start: 0, End: 5, Score: 1}, {Kind: "keyword", Start: 22, End: 29, Score: 1}},
	},
	{
		name: "keyword kelvin sign folds to k",
		opts: RulesOptions{Keywords: []string{"kill"}},
		text: "\u212aILL",
		want: []Finding{{Kind: "keyword", Start: 0, End: 6, Score: 1}},
	},
	{
		name: "phrase across spaces",
		opts: RulesOptions{Keywords: []string{"credit  card"}},
		text: "my Credit card, credit\t\ncard, creditcard, credit cards",
		want: []Finding{{Kind: "keyword", Start: 3, End: 14, Score: 1}, {Kind: "keyword", Start: 16, End: 28, Score: 1}},
	},
	{
		name: "longest keyword wins",
		opts: RulesOptions{Keywords: []string{"ab", "ab cd"}},
		text: "ab cd ab cdx",
		want: []Finding{{Kind: "keyword", Start: 0, End: 5, Score: 1}, {Kind: "keyword", Start: 6, End: 8, Score: 1}},
	},
	{
		name: "keyword with punctuation",
		opts: RulesOptions{Keywords: []string{"c++", ".env"}},
		text: "learn C++ now; cat .env; x.envy",
		want: []Finding{{Kind: "keyword", Start: 6, End: 9, Score: 1}, {Kind: "keyword", Start: 19, End: 23, Score: 1}},
	},
	{
		name: "topics",
		opts: RulesOptions{
			Keywords: []string{"bomb"},
			Topics:   map[string][]string{"weapons": {"bomb", "rifle"}, "finance": {"stock tip"}},
		},
		text: "Rifle; a Stock Tip; bomb; bombastic",
		want: []Finding{
			{Kind: "topic:weapons", Start: 0, End: 5, Score: 1},
			{Kind: "topic:finance", Start: 9, End: 18, Score: 1},
			{Kind: "keyword", Start: 20, End: 24, Score: 1},
			{Kind: "topic:weapons", Start: 20, End: 24, Score: 1},
		},
	},
	{
		name: "all kinds in order",
		opts: RulesOptions{Deny: []string{`evil`}, Allow: []string{`^ok`}, Keywords: []string{"evil"}},
		text: "so evil",
		want: []Finding{
			{Kind: "deny", Start: 3, End: 7, Score: 1},
			{Kind: "not_allowed", Start: 0, End: 7, Score: 1},
			{Kind: "keyword", Start: 3, End: 7, Score: 1},
		},
	},
	{
		name: "invalid utf-8 is not a word",
		opts: RulesOptions{Keywords: []string{"hi"}},
		text: "\xffhi\xfe",
		want: []Finding{{Kind: "keyword", Start: 1, End: 3, Score: 1}},
	},
}

func TestRulesFind(t *testing.T) {
	for _, tc := range rulesFindCases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewRules(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := r.Find(nil, tc.text)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Find(%q) (-want +got):\n%s", tc.text, diff)
			}
		})
	}
}

func TestRulesFindAppends(t *testing.T) {
	r, err := NewRules(RulesOptions{Keywords: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	prev := Finding{Kind: "email", Start: 1, End: 2}
	got := r.Find([]Finding{prev}, "x")
	want := []Finding{prev, {Kind: "keyword", Start: 0, End: 1, Score: 1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestRulesCheckRequest(t *testing.T) {
	msgs := func(texts ...string) []llm.Message {
		var out []llm.Message
		for _, s := range texts {
			out = append(out, llm.Message{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart(s)}})
		}
		return out
	}
	long := strings.Repeat("hello world ", 100) // about 200 tokens
	cases := []struct {
		name string
		opts RulesOptions
		req  *llm.Request
		want []Finding
	}{
		{"nil request", RulesOptions{MaxMessages: 1, MaxPromptTokens: 1}, nil, nil},
		{"limits off", RulesOptions{}, &llm.Request{Model: "gpt-4o", Messages: msgs(long, long, long)}, nil},
		{"messages at limit", RulesOptions{MaxMessages: 2}, &llm.Request{Messages: msgs("a", "b")}, nil},
		{"messages over limit", RulesOptions{MaxMessages: 2}, &llm.Request{Messages: msgs("a", "b", "c")},
			[]Finding{{Kind: "max_messages", Score: 1}}},
		{"prompt under limit", RulesOptions{MaxPromptTokens: 50}, &llm.Request{Model: "gpt-4o", Messages: msgs("hi there")}, nil},
		{"prompt over limit", RulesOptions{MaxPromptTokens: 50}, &llm.Request{Model: "gpt-4o", Messages: msgs(long)},
			[]Finding{{Kind: "max_prompt_tokens", Score: 1}}},
		{"both over", RulesOptions{MaxPromptTokens: 50, MaxMessages: 1}, &llm.Request{Model: "gpt-4o", Messages: msgs(long, "x")},
			[]Finding{{Kind: "max_messages", Score: 1}, {Kind: "max_prompt_tokens", Score: 1}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewRules(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, r.CheckRequest(nil, tc.req)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewRulesErrors(t *testing.T) {
	huge := "(" + strings.Repeat("a", 10000)
	cases := []struct {
		name    string
		opts    RulesOptions
		wantSub string
	}{
		{"bad deny", RulesOptions{Deny: []string{`ok`, `(?<=x)y`}}, "deny[1]"},
		{"bad allow", RulesOptions{Allow: []string{`[a-`}}, "allow[0]"},
		{"huge bad regex", RulesOptions{Deny: []string{huge}}, "deny[0]"},
		{"empty keyword", RulesOptions{Keywords: []string{"a", "  "}}, "keywords[1]"},
		{"empty topic keyword", RulesOptions{Topics: map[string][]string{"t": {""}}}, `topics["t"][0]`},
		{"empty topic name", RulesOptions{Topics: map[string][]string{" ": {"x"}}}, "empty topic name"},
		{"negative limit", RulesOptions{MaxMessages: -1}, "negative"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewRules(tc.opts)
			if err == nil {
				t.Fatal("NewRules succeeded")
			}
			if !strings.Contains(err.Error(), tc.wantSub) {
				t.Errorf("error %q does not contain %q", err, tc.wantSub)
			}
			if len(err.Error()) > 200 {
				t.Errorf("error is %d bytes long: %.80q…", len(err.Error()), err)
			}
		})
	}
}

func TestNewRulesRegexErrorUnwraps(t *testing.T) {
	_, err := NewRules(RulesOptions{Deny: []string{`a)`}})
	var se *syntax.Error
	if !errors.As(err, &se) || se.Code != syntax.ErrUnexpectedParen {
		t.Fatalf("error %v does not wrap a *syntax.Error with ErrUnexpectedParen", err)
	}
}

func TestRuleShort(t *testing.T) {
	cases := []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "abc…"},
		{"aéb", 2, "a…"}, // never cuts inside "é"
	}
	for _, tc := range cases {
		if got := ruleShort(tc.in, tc.n); got != tc.want {
			t.Errorf("ruleShort(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
