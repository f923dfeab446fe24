package route

import (
	"strings"
	"testing"
)

func TestMatchFirstRuleWins(t *testing.T) {
	tab, err := NewTable([]string{
		`metadata.plan == "free"`,
		`prompt_tokens > 100000`,
		`tenant == "t_big" && has_tools`,
		`model startsWith "claude-" || stream && has_images`,
		`tenant in ["ten_1", "ten_2"] and not stream and model matches "^gpt-4" and model contains "4o"`,
		`true`,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		req  Request
		want int
	}{
		{"free plan", Request{Metadata: map[string]string{"plan": "free"}, PromptTokens: 200000}, 0},
		{"paid plan, long prompt", Request{Metadata: map[string]string{"plan": "pro"}, PromptTokens: 200000}, 1},
		{"no metadata reads as empty", Request{PromptTokens: 10}, 5},
		{"tenant with tools", Request{Tenant: "t_big", HasTools: true}, 2},
		{"tenant without tools", Request{Tenant: "t_big"}, 5},
		{"model prefix", Request{Model: "claude-haiku"}, 3},
		{"stream with images", Request{Stream: true, HasImages: true}, 3},
		{"words and regexps", Request{Tenant: "ten_1", Model: "gpt-4o"}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tab.Match(&tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Match = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestMatchNoneAndNil(t *testing.T) {
	tab, err := NewTable([]string{`model == "a"`})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := tab.Match(&Request{Model: "b"}); got != -1 {
		t.Errorf("Match = %d, want -1", got)
	}
	var nilTab *Table
	if got, err := nilTab.Match(&Request{}); got != -1 || err != nil {
		t.Errorf("nil table: %d, %v", got, err)
	}
}

func TestRuntimeErrorSkipsTheRule(t *testing.T) {
	tab, err := NewTable([]string{`int(metadata.tier) > 2`, `true`})
	if err != nil {
		t.Fatal(err)
	}
	got, err := tab.Match(&Request{Metadata: map[string]string{"tier": "gold"}})
	if got != 1 {
		t.Errorf("Match = %d, want 1 (the failing rule skipped)", got)
	}
	if err == nil || !strings.Contains(err.Error(), "route 0") {
		t.Errorf("error %v, want one naming route 0", err)
	}
	if got, err := tab.Match(&Request{Metadata: map[string]string{"tier": "3"}}); got != 0 || err != nil {
		t.Errorf("tier 3: %d, %v; want 0, nil", got, err)
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"empty", ``, "empty condition"},
		{"not bool", `prompt_tokens + 1`, "expected bool"},
		{"unknown name", `modle == "x"`, "unknown name modle"},
		{"type mismatch", `metadata.tier > 2`, "invalid operation"},
		{"string vs int", `model == 3`, "invalid operation"},
		{"syntax", `model ==`, "column 8 of the condition"},
		{"second line", "model == \"a\" &&\n  foo", "line 2, column 3 of the condition: unknown name foo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(tc.src)
			if err == nil {
				t.Fatalf("Compile(%q) succeeded", tc.src)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestNeeds(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want Needs
	}{
		{`model == "x"`, Needs{}},
		{`metadata.plan == "free"`, Needs{Metadata: true}},
		{`prompt_tokens > 10 && has_images`, Needs{PromptTokens: true, HasImages: true}},
		{`$env.prompt_tokens > 10`, Needs{Metadata: true, PromptTokens: true, HasImages: true}},
	} {
		c, err := Compile(tc.src)
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		if c.Needs() != tc.want {
			t.Errorf("%s: Needs = %+v, want %+v", tc.src, c.Needs(), tc.want)
		}
	}
	tab, err := NewTable([]string{`model == "x"`, `prompt_tokens > 5`})
	if err != nil {
		t.Fatal(err)
	}
	if tab.Needs() != (Needs{PromptTokens: true}) {
		t.Errorf("table Needs = %+v", tab.Needs())
	}
}

func TestNewTableNamesEveryBadRule(t *testing.T) {
	_, err := NewTable([]string{`true`, `nope`, `1`})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"route 1:", "route 2:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
