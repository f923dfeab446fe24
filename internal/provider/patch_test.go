package provider

import (
	"encoding/json"
	"reflect"
	"testing"
)

var patchCases = []struct {
	name, body, patch, want string
}{
	{"empty patch keeps the body", `{"model":"m","n":1}`, ``, `{"model":"m","n":1}`},
	{"empty object patch", `{"model":"m"}`, `{}`, `{"model":"m"}`},
	{"new member is appended", `{"model":"m"}`, `{"safe_prompt":true}`, `{"model":"m","safe_prompt":true}`},
	{"member is replaced in place", `{"model":"m","temperature":0.2,"n":1}`, `{"temperature":1}`, `{"model":"m","temperature":1,"n":1}`},
	{"null removes a member", `{"model":"m","temperature":0.2,"n":1}`, `{"temperature":null}`, `{"model":"m","n":1}`},
	{"null for an absent member adds nothing", `{"model":"m"}`, `{"top_k":null}`, `{"model":"m"}`},
	{"objects merge recursively",
		`{"contents":[],"generationConfig":{"temperature":0.5,"maxOutputTokens":100}}`,
		`{"generationConfig":{"topK":40,"temperature":null}}`,
		`{"contents":[],"generationConfig":{"maxOutputTokens":100,"topK":40}}`},
	{"an object replaces a scalar", `{"a":1}`, `{"a":{"b":2,"c":null}}`, `{"a":{"b":2}}`},
	{"arrays are replaced whole", `{"stop":["a","b"]}`, `{"stop":["c"]}`, `{"stop":["c"]}`},
	{"first member removed keeps commas right", `{"a":1,"b":2}`, `{"a":null,"c":3}`, `{"b":2,"c":3}`},
	{"escaped keys match", `{"a\u0062":1}`, `{"ab":2}`, `{"a\u0062":2}`},
	{"whitespace is tolerated", ` { "a" : 1 , "b" : { "c" : 2 } } `, ` { "b" : { "d" : 3 } } `, `{"a":1,"b":{"c":2,"d":3}}`},
	{"last duplicate in the patch wins", `{"a":1}`, `{"a":2,"a":null}`, `{}`},
}

func TestPatchBody(t *testing.T) {
	for _, tc := range patchCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PatchBody([]byte(tc.body), json.RawMessage(tc.patch))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("PatchBody(%s, %s)\n got %s\nwant %s", tc.body, tc.patch, got, tc.want)
			}
		})
	}
	for _, bad := range [][2]string{{`[1]`, `{"a":1}`}, {`{"a":1}`, `[1]`}, {`{"a":1}`, `null`}, {``, `{"a":1}`}} {
		if _, err := PatchBody([]byte(bad[0]), json.RawMessage(bad[1])); err == nil {
			t.Errorf("PatchBody(%q, %q) succeeded; want an error", bad[0], bad[1])
		}
	}
}

func TestPatchBodyEmptyDoesNotAllocate(t *testing.T) {
	body := []byte(`{"model":"m"}`)
	if n := testing.AllocsPerRun(100, func() { _, _ = PatchBody(body, nil) }); n != 0 {
		t.Errorf("PatchBody with no patch allocates %v times", n)
	}
}

// mergePatch is RFC 7386's MergePatch over decoded values, the reference
// the fuzzer holds PatchBody to.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}

func FuzzPatchBody(f *testing.F) {
	for _, tc := range patchCases {
		f.Add(tc.body, tc.patch)
	}
	f.Fuzz(func(t *testing.T, body, patch string) {
		var b, p any
		if json.Unmarshal([]byte(body), &b) != nil || json.Unmarshal([]byte(patch), &p) != nil {
			return
		}
		_, bObj := b.(map[string]any)
		_, pObj := p.(map[string]any)
		got, err := PatchBody([]byte(body), json.RawMessage(patch))
		if !bObj || !pObj {
			if err == nil && len(patch) > 0 {
				t.Fatalf("PatchBody(%q, %q) accepted a non-object", body, patch)
			}
			return
		}
		if err != nil {
			t.Fatalf("PatchBody(%q, %q): %v", body, patch, err)
		}
		var out any
		if err := json.Unmarshal(got, &out); err != nil {
			t.Fatalf("PatchBody(%q, %q) = %q: not JSON: %v", body, patch, got, err)
		}
		if want := mergePatch(b, p); !reflect.DeepEqual(out, want) {
			t.Fatalf("PatchBody(%q, %q) = %s; want %v", body, patch, got, want)
		}
	})
}
