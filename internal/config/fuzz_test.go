package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzSeeds are documents that reach the decoder's and validator's corners.
var fuzzSeeds = []string{
	"",
	okProvider,
	"server:\n  listen: 127.0.0.1:8080\n  lisen: x\n  listen: y\n",
	"x-a: &a {type: openai, api_key: k}\nproviders: [{name: a, <<: *a}, {name: b, <<: [*a, {timeout: 1m}]}]\n",
	"server: &s\n  <<: *s\n",
	"x-loop: &loop\n  a: *loop\nserver: *loop\n",
	"providers:\n  - {name: x, type: opnai, api_key: ${NOPE}, timeout: 30}\nmodels: [{name: x/y, targets: [{provider: y, weight: -1}]}]\n",
	"server: {max_body_bytes: \"${N:-0x10}\", idle_timeout: ${T:-}}\nmock: {enabled: ${B:-true}, latency: $${x}}\n",
	"? [a]\n: b\n",
	"a: 1\n---\nb: 2\n",
	"server: [\n",
	"models: [{name: m, targets: *x}]\n",
	"providers: [{name: a, type: azure, headers: {\"Bad Name\": \"a\\r\\nb\", Host: h}}]\n",
	okProvider + "models: [{name: m, targets: [{provider: openai, model: x, retry: {max_attempts: 2}, extra: {a: [1, {b: null}], c: ${N:-x}, d: &d {e: .5}, f: *d}}]}]\n",
}

// FuzzParse checks that Parse never panics, and that every line of every
// error names the file.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	env := lookupIn(with(map[string]string{"N": "12", "T": "5s", "B": "false"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parse(data, "fuzz.yaml", env)
		if err != nil {
			if c != nil {
				t.Fatalf("config and error %v both returned", err)
			}
			for _, line := range errLines(err) {
				if !strings.HasPrefix(line, "fuzz.yaml") {
					t.Fatalf("error line %q does not name the file", line)
				}
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed config fails Validate: %v", err)
		}
		if _, err := c.Redacted(); err != nil {
			t.Fatalf("Redacted: %v", err)
		}
	})
}

// FuzzExpand checks that expansion never panics, and that text without
// "$" comes back unchanged.
func FuzzExpand(f *testing.F) {
	for _, s := range []string{"plain", "${KEY}", "${NOPE:-x}", "$$", "${", "${}", "${A:=b}", "a$b$$c${KEY}d"} {
		f.Add(s)
	}
	env := lookupIn(map[string]string{"KEY": "v"})
	f.Fuzz(func(t *testing.T, s string) {
		out, vars, err := expand(s, env)
		if !strings.Contains(s, "$") && (out != s || vars != nil || err != nil) {
			t.Fatalf("expand(%q) = %q, %v, %v; want it unchanged", s, out, vars, err)
		}
	})
}
