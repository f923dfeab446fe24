package cache

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sluicehq/sluice/internal/llm"
)

func TestKeyStringParseRoundTrip(t *testing.T) {
	var k Key
	for i := range k {
		k[i] = byte(i*37 + 11)
	}
	s := k.String()
	if len(s) != 64 || strings.ToLower(s) != s {
		t.Fatalf("String() = %q, want 64 lower-case hex digits", s)
	}
	got, err := ParseKey(s)
	if err != nil {
		t.Fatalf("ParseKey(%q): %v", s, err)
	}
	if got != k {
		t.Errorf("ParseKey(String()) = %x, want %x", got, k)
	}
}

func TestParseKeyRejects(t *testing.T) {
	valid := strings.Repeat("0123456789abcdef", 4)
	if _, err := ParseKey(valid); err != nil {
		t.Fatalf("ParseKey(valid): %v", err)
	}
	cases := map[string]string{
		"empty":        "",
		"one short":    valid[:63],
		"one long":     valid + "0",
		"upper case":   strings.ToUpper(valid),
		"one upper":    valid[:10] + "A" + valid[11:],
		"non-hex":      valid[:63] + "g",
		"space":        " " + valid[1:],
		"0x prefix":    "0x" + valid[2:],
		"multibyte":    valid[:62] + "é",
		"nul":          valid[:63] + "\x00",
		"double width": valid + valid,
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			if k, err := ParseKey(s); err == nil {
				t.Errorf("ParseKey(%q) = %v, want an error", s, k)
			}
		})
	}
}

// keyExcludedFields are the fields KeyFor must ignore, as "Type.Field".
var keyExcludedFields = map[string]bool{
	"Request.Stream":       true,
	"Request.IncludeUsage": true,
	"Request.User":         true,
	"Request.Metadata":     true,
	"Request.ServiceTier":  true,
	"Request.Store":        true,
	"Request.Patch":        true,
	"Part.CacheControl":    true,
	"Tool.CacheControl":    true,
}

// TestKeyForCoversEveryField changes, one at a time, every value reachable
// from a request whose every field is set (each string, number, flag, raw
// JSON byte, pointer, slice length, map entry), and checks that the key
// changes exactly when the field is not one of keyExcludedFields. A field
// added to llm.Request (or to a type inside it) fails here until KeyFor
// hashes it or it is listed as excluded.
func TestKeyForCoversEveryField(t *testing.T) {
	base := KeyFor("tenant", filledRequest())
	seen := map[string]bool{}
	for i := 0; ; i++ {
		req := filledRequest()
		m := &fieldMutator{t: t, target: i}
		m.walk(reflect.ValueOf(req).Elem(), "Request", "Request")
		if !m.done {
			if i < 100 {
				t.Fatalf("only %d mutations: the walk is broken", i)
			}
			break
		}
		seen[m.owner] = true
		changed := KeyFor("tenant", req) != base
		if want := !keyExcludedFields[m.owner]; changed != want {
			t.Errorf("%s (field %s): key changed = %v, want %v", m.path, m.owner, changed, want)
		}
	}
	for f := range keyExcludedFields {
		if !seen[f] {
			t.Errorf("excluded field %s was never mutated: stale list?", f)
		}
	}
}

func TestKeyForNilDiffersFromZero(t *testing.T) {
	rv := reflect.ValueOf(llm.Request{})
	for i := range rv.NumField() {
		f := rv.Type().Field(i)
		if f.Type.Kind() != reflect.Pointer || keyExcludedFields["Request."+f.Name] {
			continue
		}
		t.Run(f.Name, func(t *testing.T) {
			withZero := &llm.Request{Model: "m"}
			reflect.ValueOf(withZero).Elem().Field(i).Set(reflect.New(f.Type.Elem()))
			if KeyFor("", &llm.Request{Model: "m"}) == KeyFor("", withZero) {
				t.Errorf("nil %s and a pointer to its zero value give the same key", f.Name)
			}
		})
	}
	f := false
	nested := map[string][2]*llm.Request{
		"Tool.Strict": {
			{Tools: []llm.Tool{{Name: "f"}}},
			{Tools: []llm.Tool{{Name: "f", Strict: &f}}},
		},
		"ResponseFormat.Strict": {
			{ResponseFormat: &llm.ResponseFormat{}},
			{ResponseFormat: &llm.ResponseFormat{Strict: &f}},
		},
		"Part.Media": {
			{Messages: []llm.Message{{Parts: []llm.Part{{}}}}},
			{Messages: []llm.Message{{Parts: []llm.Part{{Media: &llm.Media{}}}}}},
		},
		"Part.ToolCall": {
			{Messages: []llm.Message{{Parts: []llm.Part{{}}}}},
			{Messages: []llm.Message{{Parts: []llm.Part{{ToolCall: &llm.ToolCall{}}}}}},
		},
		"Part.ToolResult": {
			{Messages: []llm.Message{{Parts: []llm.Part{{}}}}},
			{Messages: []llm.Message{{Parts: []llm.Part{{ToolResult: &llm.ToolResult{}}}}}},
		},
	}
	for name, pair := range nested {
		if KeyFor("", pair[0]) == KeyFor("", pair[1]) {
			t.Errorf("%s: nil and a pointer to zero give the same key", name)
		}
	}
}

// TestKeyForBoundaries guards against ambiguous field boundaries: moving
// bytes from one field (or element) to the next must change the key.
func TestKeyForBoundaries(t *testing.T) {
	text := func(ss ...string) []llm.Message {
		var ms []llm.Message
		for _, s := range ss {
			ms = append(ms, llm.Message{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart(s)}})
		}
		return ms
	}
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	cases := map[string][2]*llm.Request{
		"messages": {{Messages: text("ab", "c")}, {Messages: text("a", "bc")}},
		"parts": {
			{Messages: []llm.Message{{Parts: []llm.Part{llm.TextPart("ab"), llm.TextPart("c")}}}},
			{Messages: []llm.Message{{Parts: []llm.Part{llm.TextPart("a"), llm.TextPart("bc")}}}},
		},
		"message count": {{Messages: text("a", "")}, {Messages: text("a")}},
		"role and name": {
			{Messages: []llm.Message{{Role: "ab", Name: "c"}}},
			{Messages: []llm.Message{{Role: "a", Name: "bc"}}},
		},
		"model and format": {{Model: "ab", Format: "c"}, {Model: "a", Format: "bc"}},
		"stop":             {{Stop: []string{"ab", "c"}}, {Stop: []string{"a", "bc"}}},
		"modalities":       {{Modalities: []string{"ab", "c"}}, {Modalities: []string{"a", "bc"}}},
		"extra":            {{Extra: map[string]json.RawMessage{"a": raw("1")}}, {Extra: map[string]json.RawMessage{"a1": nil}}},
		"headers":          {{Headers: map[string]string{"ab": "c"}}, {Headers: map[string]string{"a": "bc"}}},
		"logit bias":       {{LogitBias: map[string]float64{"1": 1, "2": 2}}, {LogitBias: map[string]float64{"1": 2, "2": 1}}},
		"tool call": {
			{Messages: []llm.Message{{Parts: []llm.Part{{ToolCall: &llm.ToolCall{ID: "ab", Name: "c"}}}}}},
			{Messages: []llm.Message{{Parts: []llm.Part{{ToolCall: &llm.ToolCall{ID: "a", Name: "bc"}}}}}},
		},
		"text into tool result": {
			{Messages: []llm.Message{{Parts: []llm.Part{{ToolResult: &llm.ToolResult{Parts: []llm.Part{llm.TextPart("x")}}}}}}},
			{Messages: []llm.Message{{Parts: []llm.Part{{ToolResult: &llm.ToolResult{}}, llm.TextPart("x")}}}},
		},
	}
	for name, pair := range cases {
		t.Run(name, func(t *testing.T) {
			if KeyFor("", pair[0]) == KeyFor("", pair[1]) {
				t.Error("different requests give the same key")
			}
		})
	}
	if KeyFor("ab", &llm.Request{Model: "c"}) == KeyFor("a", &llm.Request{Model: "bc"}) {
		t.Error("namespace/model boundary is ambiguous")
	}
	if CustomKey("ab", "c", "d") == CustomKey("a", "bc", "d") || CustomKey("a", "bc", "d") == CustomKey("a", "b", "cd") {
		t.Error("CustomKey boundaries are ambiguous")
	}
}

func TestKeyForNamespacesAndCustomKeys(t *testing.T) {
	req := &llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("hi")}}}}
	keys := map[Key]string{}
	add := func(name string, k Key) {
		if prev, dup := keys[k]; dup {
			t.Errorf("%s and %s share the key %v", name, prev, k)
		}
		keys[k] = name
	}
	add(`KeyFor("")`, KeyFor("", req))
	add(`KeyFor("t1")`, KeyFor("t1", req))
	add(`KeyFor("t2")`, KeyFor("t2", req))
	add(`CustomKey("", "m", "")`, CustomKey("", "m", ""))
	add(`CustomKey("", "m", "hi")`, CustomKey("", "m", "hi"))
	add(`CustomKey("t1", "m", "hi")`, CustomKey("t1", "m", "hi"))
	add(`CustomKey("t1", "m2", "hi")`, CustomKey("t1", "m2", "hi"))
	add(`KeyFor("", empty)`, KeyFor("", &llm.Request{}))
	add(`CustomKey("", "", "")`, CustomKey("", "", ""))
	again := &llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("hi")}}}}
	if KeyFor("t1", again) != KeyFor("t1", req) {
		t.Error("equal requests give different keys")
	}
}

func TestKeyForIgnoresMapOrder(t *testing.T) {
	a := &llm.Request{Extra: map[string]json.RawMessage{}, Headers: map[string]string{}, LogitBias: map[string]float64{}}
	b := &llm.Request{Extra: map[string]json.RawMessage{}, Headers: map[string]string{}, LogitBias: map[string]float64{}}
	for i := range 50 {
		k, j := fmt.Sprint(i), fmt.Sprint(49-i)
		a.Extra[k], a.Headers[k], a.LogitBias[k] = json.RawMessage(k), k, float64(i)
		b.Extra[j], b.Headers[j], b.LogitBias[j] = json.RawMessage(j), j, float64(49-i)
	}
	want := KeyFor("", a)
	for range 20 { // map iteration order is random on every range
		if KeyFor("", b) != want {
			t.Fatal("the same maps built in another order give another key")
		}
	}
}

// TestKeyForIsStable pins the encoding: keys are shared by replicas through
// Redis, so a change must be deliberate. When KeyFor's encoding changes,
// bump exactKeyTag or customKeyTag and update the digests here.
func TestKeyForIsStable(t *testing.T) {
	temp, maxTokens := 0.5, 100
	req := &llm.Request{
		Model: "gpt-x", Format: "openai",
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart("be brief")}},
			{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart(strings.Repeat("long prompt ", 1000))}},
		},
		Temperature: &temp, MaxTokens: &maxTokens,
		Extra: map[string]json.RawMessage{"b": json.RawMessage(`2`), "a": json.RawMessage(`1`)},
	}
	const (
		wantExact  = "c88d4d81411112c15f750fbace3e99b15211d2024678159f87394e60c2f1d3cc"
		wantCustom = "24e454dfdd34b978f03926107d3d0fba1db502638219e91749371f87e4c0adea"
	)
	if got := KeyFor("tenant-1", req).String(); got != wantExact {
		t.Errorf("KeyFor = %s, want %s", got, wantExact)
	}
	if got := CustomKey("tenant-1", "gpt-x", "my-key").String(); got != wantCustom {
		t.Errorf("CustomKey = %s, want %s", got, wantCustom)
	}
}

// TestKeyForConcurrent checks that pooled writers are not shared: keys
// computed in parallel equal those computed alone.
func TestKeyForConcurrent(t *testing.T) {
	reqs := make([]*llm.Request, 8)
	want := make([]Key, len(reqs))
	for i := range reqs {
		reqs[i] = &llm.Request{Model: fmt.Sprint("m", i), Messages: []llm.Message{
			{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart(strings.Repeat(fmt.Sprint(i), 3000+i))}}}}
		want[i] = KeyFor("", reqs[i])
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for n := range 200 {
				i := (g + n) % len(reqs)
				if got := KeyFor("", reqs[i]); got != want[i] {
					t.Errorf("request %d: concurrent key %v, want %v", i, got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}

// filledRequest returns a request with every field set; see fieldFiller.
func filledRequest() *llm.Request {
	req := new(llm.Request)
	(&fieldFiller{}).fill(reflect.ValueOf(req).Elem(), false)
	return req
}

// fieldFiller sets every value reachable from a struct to a distinct
// non-zero one: pointers to filled values, one element per slice, one entry
// per map, small JSON objects for raw JSON. A ToolResult inside a
// ToolResult is left nil, to end the recursion. It panics on a kind it does
// not know, so a new kind of field gets a look.
type fieldFiller struct{ n int }

var toolResultType = reflect.TypeFor[llm.ToolResult]()

func (f *fieldFiller) fill(v reflect.Value, inToolResult bool) {
	f.n++
	switch v.Kind() {
	case reflect.Struct:
		inToolResult = inToolResult || v.Type() == toolResultType
		for i := range v.NumField() {
			f.fill(v.Field(i), inToolResult)
		}
	case reflect.Pointer:
		if inToolResult && v.Type().Elem() == toolResultType {
			return
		}
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem(), inToolResult)
		v.Set(p)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes(fmt.Appendf(nil, `{"n":%d}`, f.n))
			return
		}
		s := reflect.MakeSlice(v.Type(), 1, 1)
		f.fill(s.Index(0), inToolResult)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		f.fill(k, inToolResult)
		f.fill(e, inToolResult)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.String:
		v.SetString(fmt.Sprint("s", f.n))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(f.n))
	case reflect.Float64:
		v.SetFloat(float64(f.n) + 0.5)
	case reflect.Bool:
		v.SetBool(true)
	default:
		panic(fmt.Sprintf("fieldFiller: unhandled kind %s of %s", v.Kind(), v.Type()))
	}
}

// fieldMutator applies the target-th of all the single changes it can make
// to a filled value, recording where (path) and to which field (owner,
// "Type.Field" of the nearest struct field).
type fieldMutator struct {
	t           *testing.T
	target, n   int
	done        bool
	path, owner string
}

func (m *fieldMutator) site(path, owner string, apply func()) {
	if m.done {
		return
	}
	if m.n == m.target {
		apply()
		m.path, m.owner, m.done = path, owner, true
	}
	m.n++
}

func (m *fieldMutator) walk(v reflect.Value, path, owner string) {
	if m.done {
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			m.walk(v.Field(i), path+"."+f.Name, t.Name()+"."+f.Name)
		}
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		m.site(path+" = nil", owner, func() { v.SetZero() })
		m.walk(v.Elem(), path, owner)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			m.site(path+" += space", owner, func() { v.SetBytes(append(slices.Clone(v.Bytes()), ' ')) })
			return
		}
		m.site(path+" = nil", owner, func() { v.SetZero() })
		m.site(path+" += copy", owner, func() { v.Set(reflect.Append(v, v.Index(0))) })
		for i := range v.Len() {
			m.walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i), owner)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := v.MapIndex(k)
			m.site(path+" += entry", owner, func() { v.SetMapIndex(reflect.ValueOf(k.String()+"-more"), e) })
			m.site(path+" rename", owner, func() {
				v.SetMapIndex(k, reflect.Value{})
				v.SetMapIndex(reflect.ValueOf(k.String()+"-renamed"), e)
			})
			c := reflect.New(e.Type()).Elem()
			c.Set(e)
			inner := &fieldMutator{t: m.t}
			inner.walk(c, path+"["+k.String()+"]", owner)
			if inner.n != 1 {
				m.t.Fatalf("map values with %d mutations are not supported", inner.n)
			}
			m.site(inner.path, owner, func() { v.SetMapIndex(k, c) })
		}
	case reflect.String:
		m.site(path, owner, func() { v.SetString(v.String() + "x") })
	case reflect.Int, reflect.Int64:
		m.site(path, owner, func() { v.SetInt(v.Int() + 1) })
	case reflect.Float64:
		m.site(path, owner, func() { v.SetFloat(v.Float() + 0.25) })
	case reflect.Bool:
		m.site(path, owner, func() { v.SetBool(!v.Bool()) })
	default:
		m.t.Fatalf("fieldMutator: unhandled kind %s at %s", v.Kind(), path)
	}
}
