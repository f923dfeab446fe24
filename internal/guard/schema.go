package guard

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/sluicehq/sluice/internal/llm"
)

// schemaReasonMax caps the reason of a validation error, which may quote
// part of the answer (a string that fails a pattern, say).
const schemaReasonMax = 120

// schemaURL is the location the compiled schema is registered under. It
// only names the schema in the compiler; nothing is fetched.
const schemaURL = "sluice:///schema.json"

// schemaCacheSize bounds the schemas SchemaFromRequest keeps compiled.
const schemaCacheSize = 256

// schemaCache holds schemas compiled by SchemaFromRequest by the sha256
// of their JSON, so that a client sending the same schema every time
// pays for compiling it once.
var schemaCache, _ = lru.New[[sha256.Size]byte, *Schema](schemaCacheSize)

// schemaPrinter renders validation reasons in English.
var schemaPrinter = message.NewPrinter(language.English)

// Schema validates a model's answer against a JSON Schema (routes that
// demand structured output). It is safe for concurrent use.
type Schema struct {
	sch *jsonschema.Schema
}

// NewSchema compiles a JSON Schema. The draft is the one its "$schema"
// names, else 2020-12; "format" is an annotation only, as that draft
// says. References must stay inside the schema: nothing is loaded from
// files or the network.
func NewSchema(schema json.RawMessage) (*Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return nil, fmt.Errorf("guard: schema: not JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(schemaNoLoader{})
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("guard: schema: %w", err)
	}
	sch, err := c.Compile(schemaURL)
	if err != nil {
		// The library's message is a multi-line tree: fold it to one line.
		msg := strings.Join(strings.Fields(err.Error()), " ")
		return nil, fmt.Errorf("guard: schema: invalid: %s", ruleShort(msg, 300))
	}
	return &Schema{sch: sch}, nil
}

// SchemaFromRequest returns the schema of a request's response_format
// json_schema, compiled (and kept compiled in a small process-wide LRU
// cache). It returns nil, nil when the request asks for no json_schema
// format or the format carries no schema.
func SchemaFromRequest(req *llm.Request) (*Schema, error) {
	if req == nil || req.ResponseFormat == nil || req.ResponseFormat.Type != llm.FormatJSONSchema {
		return nil, nil
	}
	raw := bytes.TrimSpace(req.ResponseFormat.Schema)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	key := sha256.Sum256(raw)
	if s, ok := schemaCache.Get(key); ok {
		return s, nil
	}
	s, err := NewSchema(raw)
	if err != nil {
		return nil, fmt.Errorf("response_format: %w", err)
	}
	schemaCache.Add(key, s)
	return s, nil
}

// Validate returns nil when text is one JSON value (surrounding
// whitespace allowed, nothing else) valid against the schema. Otherwise
// its error describes the first violation: the JSON pointer of the value
// and the reason, which quotes at most a short excerpt of the answer.
func (s *Schema) Validate(text string) error {
	if strings.TrimSpace(text) == "" {
		return errors.New("answer is not JSON: it is empty")
	}
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return fmt.Errorf("answer is not JSON: %s", ruleShort(err.Error(), schemaReasonMax))
	}
	err = s.sch.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("answer does not match the schema: %s", ruleShort(err.Error(), schemaReasonMax))
	}
	ve = schemaFirstLeaf(ve)
	return fmt.Errorf("answer does not match the schema at %s: %s",
		ruleShort(schemaPointer(ve.InstanceLocation), 80), ruleShort(ve.ErrorKind.LocalizedString(schemaPrinter), schemaReasonMax))
}

// schemaFirstLeaf follows the first cause of e down to a violation
// that has none. It stops at anyOf and oneOf, whose first branch says
// little about why none matched.
func schemaFirstLeaf(e *jsonschema.ValidationError) *jsonschema.ValidationError {
	for len(e.Causes) > 0 {
		switch e.ErrorKind.(type) {
		case *kind.AnyOf, *kind.OneOf:
			return e
		}
		e = e.Causes[0]
	}
	return e
}

// schemaPointer renders an instance location as a JSON pointer ("" is
// the whole answer, shown as "/").
func schemaPointer(loc []string) string {
	if len(loc) == 0 {
		return "/"
	}
	var b strings.Builder
	for _, tok := range loc {
		b.WriteByte('/')
		tok = strings.ReplaceAll(tok, "~", "~0")
		b.WriteString(strings.ReplaceAll(tok, "/", "~1"))
	}
	return b.String()
}

// schemaNoLoader refuses every external reference.
type schemaNoLoader struct{}

// Load implements jsonschema.URLLoader.
func (schemaNoLoader) Load(url string) (any, error) {
	return nil, errors.New("external references are not allowed")
}
