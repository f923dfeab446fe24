package auth

import (
	"net/netip"
	"path"
	"testing"
)

func TestAllowsModel(t *testing.T) {
	cases := []struct {
		name   string
		models []string
		model  string
		want   bool
	}{
		{"empty list allows all", nil, "openai/gpt-4o", true},
		{"empty list allows empty", nil, "", true},
		{"exact full", []string{"openai/gpt-4o"}, "openai/gpt-4o", true},
		{"exact full other provider", []string{"openai/gpt-4o"}, "azure/gpt-4o", false},
		{"full pattern not bare", []string{"openai/gpt-4o"}, "gpt-4o", false},
		{"bare pattern on bare name", []string{"gpt-4o"}, "gpt-4o", true},
		{"bare pattern on any provider", []string{"gpt-4o"}, "azure/gpt-4o", true},
		{"bare pattern is not a prefix", []string{"gpt-4o"}, "openai/gpt-4o-mini", false},
		{"star matches all", []string{"*"}, "openai/gpt-4o", true},
		{"star matches slash", []string{"open*4o"}, "openai/gpt-4o", true},
		{"star matches empty model", []string{"*"}, "", true},
		{"provider star", []string{"openai/*"}, "openai/o3", true},
		{"provider star other", []string{"openai/*"}, "anthropic/claude-3", false},
		{"provider star bare", []string{"openai/*"}, "o3", false},
		{"star slash model", []string{"*/gpt-4o"}, "azure/gpt-4o", true},
		{"star slash model bare", []string{"*/gpt-4o"}, "gpt-4o", false},
		{"bare glob", []string{"claude-*"}, "anthropic/claude-3-5-haiku", true},
		{"question mark", []string{"gpt-?o"}, "gpt-4o", true},
		{"question mark needs one", []string{"gpt-?o"}, "gpt-o", false},
		{"question mark is one rune", []string{"m?"}, "mé", true},
		{"bracket is literal", []string{"gpt-[4]o"}, "gpt-4o", false},
		{"bracket literal matches", []string{"gpt-[4]o"}, "gpt-[4]o", true},
		{"case sensitive", []string{"GPT-4o"}, "gpt-4o", false},
		{"second pattern", []string{"a", "mock/*"}, "mock/echo", true},
		{"virtual model", []string{"chat-default"}, "chat-default", true},
		{"no match", []string{"a", "b"}, "c", false},
		{"empty model with list", []string{"gpt-4o"}, "", false},
		{"nested slash bare", []string{"llama-3"}, "together/meta/llama-3", false},
		{"nested slash bare glob", []string{"meta/*"}, "together/meta/llama-3", false},
		{"nested slash star", []string{"together/*"}, "together/meta/llama-3", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &Principal{Models: tc.models}
			if got := p.AllowsModel(tc.model); got != tc.want {
				t.Errorf("AllowsModel(%q) with %q = %v, want %v", tc.model, tc.models, got, tc.want)
			}
		})
	}
	var nilP *Principal
	if nilP.AllowsModel("x") {
		t.Error("nil Principal allows a model")
	}
}

// TestGlobAgreesWithPathMatch checks globMatch against path.Match where
// their rules coincide (no '/', '[' or '\').
func TestGlobAgreesWithPathMatch(t *testing.T) {
	for _, pat := range []string{"", "*", "a*", "*a", "a*b*c", "?", "??", "a?c", "**", "*?*"} {
		for _, name := range []string{"", "a", "ab", "abc", "aXbYc", "ac", "é", "aéc", "ba"} {
			want, _ := path.Match(pat, name)
			if got := globMatch(pat, name); got != want {
				t.Errorf("globMatch(%q, %q) = %v, path.Match says %v", pat, name, got, want)
			}
		}
	}
}

func TestAllowsIP(t *testing.T) {
	pfx := func(s ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, x := range s {
			out = append(out, netip.MustParsePrefix(x))
		}
		return out
	}
	cases := []struct {
		name  string
		cidrs []netip.Prefix
		ip    netip.Addr
		want  bool
	}{
		{"empty allows", nil, netip.MustParseAddr("8.8.8.8"), true},
		{"empty allows invalid", nil, netip.Addr{}, true},
		{"inside v4", pfx("10.0.0.0/8"), netip.MustParseAddr("10.1.2.3"), true},
		{"outside v4", pfx("10.0.0.0/8"), netip.MustParseAddr("11.0.0.1"), false},
		{"mapped v4", pfx("10.0.0.0/8"), netip.MustParseAddr("::ffff:10.1.2.3"), true},
		{"inside v6", pfx("2001:db8::/32"), netip.MustParseAddr("2001:db8::1"), true},
		{"v4 not in v6", pfx("2001:db8::/32"), netip.MustParseAddr("10.0.0.1"), false},
		{"second prefix", pfx("10.0.0.0/8", "192.168.0.0/16"), netip.MustParseAddr("192.168.1.1"), true},
		{"single host", pfx("127.0.0.1/32"), netip.MustParseAddr("127.0.0.1"), true},
		{"invalid with list", pfx("0.0.0.0/0"), netip.Addr{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &Principal{AllowedCIDRs: tc.cidrs}
			if got := p.AllowsIP(tc.ip); got != tc.want {
				t.Errorf("AllowsIP(%v) with %v = %v, want %v", tc.ip, tc.cidrs, got, tc.want)
			}
		})
	}
	var nilP *Principal
	if nilP.AllowsIP(netip.MustParseAddr("127.0.0.1")) {
		t.Error("nil Principal allows an address")
	}
}
