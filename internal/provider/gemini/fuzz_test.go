package gemini

import (
	"net/url"
	"strings"
	"testing"
)

func FuzzWithoutKey(f *testing.F) {
	for _, s := range []string{"", "alt=sse", "key=a&alt=sse", "k%65y=1&pageSize=5", "%zz=1&key=2", "a=1&&key&b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		out := withoutKey(q)
		if len(out) > len(q) {
			t.Fatalf("withoutKey(%q) = %q grew", q, out)
		}
		for _, param := range strings.Split(out, "&") {
			name, _, _ := strings.Cut(param, "=")
			if n, err := url.QueryUnescape(name); name == "key" || err == nil && n == "key" {
				t.Fatalf("withoutKey(%q) = %q still has a key", q, out)
			}
		}
		if withoutKey(out) != out {
			t.Fatalf("withoutKey is not idempotent on %q", q)
		}
	})
}

func FuzzModelPath(f *testing.F) {
	for _, s := range []string{"gemini-2.5-flash", "models/gemini-2.5-flash", "tunedModels/x", "../x", "a/b", "models/", "a?b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, model string) {
		p, err := modelPath(model, "generateContent")
		if err != nil {
			return
		}
		coll, name, _ := strings.Cut(strings.TrimSuffix(p, ":generateContent"), "/")
		if coll != "models" && coll != "tunedModels" || name == "" || strings.ContainsAny(name, "/?#%\\") || name == ".." {
			t.Fatalf("modelPath(%q) = %q could leave the model collection", model, p)
		}
		u := "https://h/v1beta/" + p
		if parsed, err := url.Parse(u); err != nil || parsed.Host != "h" || parsed.RawQuery != "" || parsed.Fragment != "" {
			t.Fatalf("modelPath(%q) gives URL %q (%v)", model, u, err)
		}
	})
}
