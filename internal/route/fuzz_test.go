package route

import "testing"

// FuzzCompile feeds arbitrary conditions to Compile and runs those that
// compile: neither may panic, a compiled condition's Needs must cover what
// it reads, and evaluation gives a bool or an error.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		`metadata.plan == "free"`, `prompt_tokens > 100000`, `tenant == "t_big" && has_tools`,
		`model startsWith "claude-" || stream && has_images`, `int(metadata.tier) > 2`,
		`tenant in ["ten_1", "ten_2"] and not stream and model matches "^gpt-4"`,
		`$env.prompt_tokens > 1`, `true`, `1`, `model ==`, `len(metadata) > 3`, "model == \"a\" &&\n foo",
		`metadata["x-y"] == "z"`, `map(1..3, # * 2)[0] == 2`,
	} {
		f.Add(s)
	}
	reqs := []*Request{
		{},
		{Model: "gpt-4o", Metadata: map[string]string{"plan": "free", "tier": "3"}, Key: "k", Team: "t",
			Tenant: "ten_1", PromptTokens: 123456, HasTools: true, HasImages: true, Stream: true},
	}
	f.Fuzz(func(t *testing.T, src string) {
		c, err := Compile(src)
		if err != nil {
			if _, ok := err.(*CompileError); !ok {
				t.Fatalf("Compile(%q) error %T, want *CompileError", src, err)
			}
			return
		}
		for _, r := range reqs {
			got, err := c.Eval(nil, r) // a run-time error is fine; a panic is not
			// What Needs leaves out must not change the result.
			lean := *r
			n := c.Needs()
			if !n.Metadata {
				lean.Metadata = nil
			}
			if !n.PromptTokens {
				lean.PromptTokens = 0
			}
			if !n.HasImages {
				lean.HasImages = false
			}
			got2, err2 := c.Eval(nil, &lean)
			if got != got2 || (err == nil) != (err2 == nil) {
				t.Fatalf("%q with Needs %+v: %v, %v on the full request; %v, %v without the fields not needed", src, n, got, err, got2, err2)
			}
		}
	})
}
