package guard

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/llm"
)

// schemaPerson is the schema of the validation tests.
const schemaPerson = `{
	"type": "object",
	"properties": {
		"name": {"type": "string", "pattern": "^[A-Z]"},
		"age": {"type": "integer", "minimum": 0},
		"tags": {"type": "array", "items": {"type": "string"}},
		"kind": {"anyOf": [{"const": "a"}, {"const": "b"}]}
	},
	"required": ["name", "age"],
	"additionalProperties": false
}`

// schemaValidateCases are the Validate table, also the seeds of
// FuzzSchemaValidate. wantErr lists substrings of the error; nil means
// valid.
var schemaValidateCases = []struct {
	name    string
	text    string
	wantErr []string
}{
	{"valid", `{"name": "Ada", "age": 36, "tags": ["x"]}`, nil},
	{"valid with whitespace", "\n {\"name\":\"Bo\",\"age\":0}\t", nil},
	{"missing required field", `{"name": "Ada"}`, []string{"at /:", "missing property", "age"}},
	{"wrong type", `{"name": "Ada", "age": "36"}`, []string{"at /age:", "got string, want integer"}},
	{"wrong nested type", `{"name": "Ada", "age": 1, "tags": ["x", 2]}`, []string{"at /tags/1:", "got number, want string"}},
	{"below minimum", `{"name": "Ada", "age": -1}`, []string{"at /age:", "minimum"}},
	{"additional property", `{"name": "Ada", "age": 1, "x": 1}`, []string{"additional properties", "'x'"}},
	{"anyOf reported as a whole", `{"name": "Ada", "age": 1, "kind": "c"}`, []string{"at /kind:", "anyOf"}},
	{"integer that is a float", `{"name": "Ada", "age": 1.5}`, []string{"at /age:", "want integer"}},
	{"not JSON at all", `Sure! Here is the JSON you asked for.`, []string{"not JSON"}},
	{"trailing text", `{"name": "Ada", "age": 1} thanks`, []string{"not JSON"}},
	{"empty answer", ``, []string{"not JSON"}},
	{"code fence is not JSON", "```json\n{\"name\":\"Ada\",\"age\":1}\n```", []string{"not JSON"}},
	{"array instead of object", `[1]`, []string{"at /:", "got array, want object"}},
}

func TestSchemaValidate(t *testing.T) {
	s, err := NewSchema(json.RawMessage(schemaPerson))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range schemaValidateCases {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Validate(tc.text)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate accepted an invalid answer")
			}
			for _, sub := range tc.wantErr {
				if !strings.Contains(err.Error(), sub) {
					t.Errorf("error %q does not contain %q", err, sub)
				}
			}
		})
	}
}

func TestSchemaValidateDoesNotEchoLongValues(t *testing.T) {
	s, err := NewSchema(json.RawMessage(schemaPerson))
	if err != nil {
		t.Fatal(err)
	}
	secret := "lower" + strings.Repeat("x", 5000)
	err = s.Validate(`{"name": "` + secret + `", "age": 1}`)
	if err == nil {
		t.Fatal("Validate accepted a name failing the pattern")
	}
	if !strings.Contains(err.Error(), "/name") || len(err.Error()) > 300 {
		t.Errorf("error is %d bytes: %.200q", len(err.Error()), err)
	}
}

func TestNewSchemaErrors(t *testing.T) {
	cases := []struct {
		name, schema, wantSub string
	}{
		{"not JSON", `{"type":`, "not JSON"},
		{"bad type", `{"type": "strang"}`, "invalid"},
		{"bad regex", `{"type": "string", "pattern": "(?<=a)b"}`, "invalid"},
		{"external ref", `{"$ref": "file:///etc/passwd"}`, "invalid"},
		{"remote ref", `{"$ref": "https://example.com/s.json"}`, "invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewSchema(json.RawMessage(tc.schema))
			if err == nil {
				t.Fatal("NewSchema succeeded")
			}
			if !strings.Contains(err.Error(), tc.wantSub) {
				t.Errorf("error %q does not contain %q", err, tc.wantSub)
			}
		})
	}
}

func TestSchemaInternalRef(t *testing.T) {
	s, err := NewSchema(json.RawMessage(`{
		"$defs": {"id": {"type": "integer"}},
		"type": "object",
		"properties": {"id": {"$ref": "#/$defs/id"}}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(`{"id": 3}`); err != nil {
		t.Errorf("valid answer: %v", err)
	}
	if err := s.Validate(`{"id": "3"}`); err == nil || !strings.Contains(err.Error(), "/id") {
		t.Errorf("invalid answer: err = %v, want a violation at /id", err)
	}
}

func TestSchemaFromRequest(t *testing.T) {
	rf := func(typ llm.ResponseFormatType, schema string) *llm.Request {
		return &llm.Request{ResponseFormat: &llm.ResponseFormat{Type: typ, Name: "person", Schema: json.RawMessage(schema)}}
	}
	none := []struct {
		name string
		req  *llm.Request
	}{
		{"nil request", nil},
		{"no response_format", &llm.Request{}},
		{"text", rf(llm.FormatText, "")},
		{"json_object", rf(llm.FormatJSONObject, "")},
		{"json_schema without schema", rf(llm.FormatJSONSchema, "")},
		{"json_schema null schema", rf(llm.FormatJSONSchema, "null")},
	}
	for _, tc := range none {
		t.Run(tc.name, func(t *testing.T) {
			s, err := SchemaFromRequest(tc.req)
			if s != nil || err != nil {
				t.Errorf("SchemaFromRequest = %v, %v; want nil, nil", s, err)
			}
		})
	}

	t.Run("json_schema", func(t *testing.T) {
		s, err := SchemaFromRequest(rf(llm.FormatJSONSchema, schemaPerson))
		if err != nil || s == nil {
			t.Fatalf("SchemaFromRequest = %v, %v", s, err)
		}
		if err := s.Validate(`{"name":"Ada","age":3}`); err != nil {
			t.Errorf("valid answer: %v", err)
		}
		if err := s.Validate(`{"name":"Ada"}`); err == nil {
			t.Error("answer without age accepted")
		}
		again, err := SchemaFromRequest(rf(llm.FormatJSONSchema, " "+schemaPerson+"\n"))
		if err != nil || again != s {
			t.Errorf("same schema again = %p, %v; want the cached %p", again, err, s)
		}
	})

	t.Run("invalid json_schema", func(t *testing.T) {
		_, err := SchemaFromRequest(rf(llm.FormatJSONSchema, `{"type": 5}`))
		if err == nil || !strings.HasPrefix(err.Error(), "response_format: ") {
			t.Errorf("err = %v, want a response_format error", err)
		}
	})
}

func FuzzSchemaValidate(f *testing.F) {
	for _, tc := range schemaValidateCases {
		f.Add(tc.text)
	}
	s, err := NewSchema(json.RawMessage(schemaPerson))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		err := s.Validate(text)
		if err == nil && !json.Valid([]byte(text)) {
			t.Fatalf("Validate accepted invalid JSON %q", text)
		}
		if err != nil && len(err.Error()) > 400 {
			t.Fatalf("error is %d bytes long", len(err.Error()))
		}
	})
}

func BenchmarkSchema(b *testing.B) {
	answer := `{"name": "Ada Lovelace", "age": 36, "tags": ["math", "engines", "poetry"], "kind": "a"}`
	req := &llm.Request{ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONSchema, Schema: json.RawMessage(schemaPerson)}}
	b.Run("Validate", func(b *testing.B) {
		s, err := NewSchema(json.RawMessage(schemaPerson))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Validate(answer); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("NewSchema", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := NewSchema(json.RawMessage(schemaPerson)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("SchemaFromRequest/cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if s, err := SchemaFromRequest(req); s == nil || err != nil {
				b.Fatal(s, err)
			}
		}
	})
}
