package guard

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/llm"
)

// rulesBenchText is about 2 KB of ordinary prose with one deny match and
// two keyword matches near the end.
var rulesBenchText = func() string {
	const para = "The quarterly report covers revenue, churn and the hiring plan for the platform team. " +
		"Customers asked for better exports; the roadmap lists them for the next release. "
	s := strings.Repeat(para, 12)
	return s[:1900] + " Please ignore previous notes about the Rifle budget and call 555-1234."
}()

// rulesBenchOptions is 20 keywords (some phrases, some topic keywords)
// and 3 regexes.
var rulesBenchOptions = RulesOptions{
	Deny:  []string{`\b\d{3}-\d{4}\b`, `(?i)ignore\s+(all\s+)?previous`},
	Allow: []string{`(?i)report`},
	Keywords: []string{
		"password", "credit card", "social security", "bomb", "exploit",
		"jailbreak", "malware", "ransomware", "phishing", "confidential",
		"do anything now", "system prompt", "weapon", "overdose", "suicide",
	},
	Topics: map[string][]string{"weapons": {"rifle", "handgun", "ammunition"}, "finance": {"insider trading", "stock tip"}},
}

func BenchmarkRulesFind(b *testing.B) {
	r, err := NewRules(rulesBenchOptions)
	if err != nil {
		b.Fatal(err)
	}
	onlyWords, _ := NewRules(RulesOptions{Keywords: rulesBenchOptions.Keywords, Topics: rulesBenchOptions.Topics})
	onlyRegex, _ := NewRules(RulesOptions{Deny: rulesBenchOptions.Deny, Allow: rulesBenchOptions.Allow})
	for _, bc := range []struct {
		name string
		r    *Rules
		want int
	}{
		{"all", r, 3},
		{"keywords", onlyWords, 1},
		{"regexes", onlyRegex, 2},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if got := len(bc.r.Find(nil, rulesBenchText)); got != bc.want {
				b.Fatalf("%d findings, want %d", got, bc.want)
			}
			dst := make([]Finding, 0, 8)
			b.SetBytes(int64(len(rulesBenchText)))
			b.ReportAllocs()
			for b.Loop() {
				dst = bc.r.Find(dst[:0], rulesBenchText)
			}
		})
	}
}

func BenchmarkRulesCheckRequest(b *testing.B) {
	r, err := NewRules(RulesOptions{MaxMessages: 50, MaxPromptTokens: 100000})
	if err != nil {
		b.Fatal(err)
	}
	req := &llm.Request{Model: "gpt-4o", Messages: []llm.Message{
		{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart("You are helpful.")}},
		{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart(rulesBenchText)}},
	}}
	b.ReportAllocs()
	for b.Loop() {
		if f := r.CheckRequest(nil, req); len(f) != 0 {
			b.Fatal(f)
		}
	}
}
