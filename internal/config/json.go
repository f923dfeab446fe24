package config

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/sluicehq/sluice/internal/jsonw"
)

// JSON is a config value of any shape (a mapping, a list or a scalar) kept
// as its compact JSON text, for values Sluice passes on rather than reads
// (a target's extra params). Scalars get ${ENV} expansion like any other;
// YAML strings (and dates) become JSON strings, integers, numbers,
// booleans and null stay what they are; .inf, .nan and binary values are
// errors. A nil JSON is null.
type JSON []byte

var jsonType = reflect.TypeFor[JSON]()

// MarshalJSON writes the value itself (null when nil).
func (j JSON) MarshalJSON() ([]byte, error) {
	if j == nil {
		return []byte("null"), nil
	}
	return j, nil
}

// MarshalYAML writes the value as YAML, so a printed config reads like
// the file.
func (j JSON) MarshalYAML() (any, error) {
	if j == nil {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(j, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// jsonValue stores node n, of any shape, as JSON.
func (d *decoder) jsonValue(n *yaml.Node, v reflect.Value, path string) {
	b, ok := d.appendJSON(nil, n, path)
	if !ok {
		return
	}
	v.SetBytes(b)
	d.src.set[path] = true
}

// appendJSON appends n as JSON; ok is false after a problem has been
// reported.
func (d *decoder) appendJSON(dst []byte, n *yaml.Node, path string) (_ []byte, ok bool) {
	if !d.spend(n) {
		return dst, false
	}
	n, release := d.deref(n, path)
	if n == nil {
		return dst, false
	}
	defer release()
	switch n.Kind {
	case yaml.MappingNode:
		dst = append(dst, '{')
		for i, e := range d.entries(n, path) {
			if i > 0 {
				dst = append(dst, ',')
			}
			p := fieldPath(path, e.key)
			d.src.lines[p] = e.line
			dst = append(jsonw.AppendString(dst, e.key), ':')
			if dst, ok = d.appendJSON(dst, e.val, p); !ok {
				return dst, false
			}
		}
		return append(dst, '}'), true
	case yaml.SequenceNode:
		dst = append(dst, '[')
		for i, item := range n.Content {
			if i > 0 {
				dst = append(dst, ',')
			}
			p := indexPath(path, i)
			d.src.lines[p] = item.Line
			if dst, ok = d.appendJSON(dst, item, p); !ok {
				return dst, false
			}
		}
		return append(dst, ']'), true
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return append(dst, "null"...), true
		}
		return d.appendJSONScalar(dst, n, path)
	}
	d.errorf(n.Line, path, "must be a mapping, a list or a scalar, got %s", describe(n))
	return dst, false
}

// appendJSONScalar appends a scalar as JSON: a string, number, boolean or
// null (a ${VAR} that expands to nothing).
func (d *decoder) appendJSONScalar(dst []byte, n *yaml.Node, path string) ([]byte, bool) {
	s, ok := d.scalar(n, path, "a string, number, boolean or null")
	if !ok {
		return dst, false
	}
	switch s.tag {
	case "!!null":
		return append(dst, "null"...), true
	case "!!bool":
		b, err := strconv.ParseBool(s.text)
		if err != nil {
			d.errorf(n.Line, path, "must be true or false%s", s.got())
			return dst, false
		}
		return strconv.AppendBool(dst, b), true
	case "!!int":
		var i int64
		if (&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: s.text}).Decode(&i) != nil {
			d.errorf(n.Line, path, "integer out of range%s", s.got())
			return dst, false
		}
		return strconv.AppendInt(dst, i, 10), true
	case "!!float":
		var f float64
		if (&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: s.text}).Decode(&f) != nil ||
			math.IsInf(f, 0) || math.IsNaN(f) {
			d.errorf(n.Line, path, "must be a finite number (JSON has no .inf or .nan)%s", s.got())
			return dst, false
		}
		return strconv.AppendFloat(dst, f, 'g', -1, 64), true
	}
	return jsonw.AppendString(dst, s.text), true
}
