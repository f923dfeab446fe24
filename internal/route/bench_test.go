package route

import (
	"fmt"
	"testing"
)

// tenRules is a realistic table: nine rules that do not match a typical
// request, then a catch-all.
func tenRules() []string {
	rules := []string{
		`metadata.plan == "free"`,
		`prompt_tokens > 100000`,
		`tenant == "t_batch" && !stream`,
		`has_images && model == "chat-default"`,
		`key in ["key_a", "key_b", "key_c"]`,
		`team == "research" && has_tools`,
		`model startsWith "claude-" && prompt_tokens > 50000`,
		`metadata.region == "eu"`,
		`stream && tenant == "t_live"`,
		`true`,
	}
	return rules
}

func BenchmarkMatch10Rules(b *testing.B) {
	tab, err := NewTable(tenRules())
	if err != nil {
		b.Fatal(err)
	}
	req := &Request{Model: "chat-default", Metadata: map[string]string{"plan": "pro"}, Key: "key_z",
		Team: "ops", Tenant: "t_1", PromptTokens: 1200, Stream: true}
	b.ReportAllocs()
	for b.Loop() {
		if i, _ := tab.Match(req); i != 9 {
			b.Fatal(i)
		}
	}
}

func ExampleTable_Match() {
	tab, err := NewTable([]string{`metadata.plan == "free"`, `prompt_tokens > 100000`})
	if err != nil {
		panic(err)
	}
	i, _ := tab.Match(&Request{PromptTokens: 150000})
	fmt.Println(i)
	// Output: 1
}
