package config

import (
	"math"
	"reflect"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// scalarText is one scalar value after ${ENV} expansion.
type scalarText struct {
	text string
	// tag is the YAML type the text resolves to ("!!str", "!!int", …).
	// A value with ${VAR} in it is resolved again after expansion, as if
	// written plainly, so "${PORT}" can fill an integer.
	tag string
	// env is the first variable substituted into the value; "" if none.
	// Messages about such a value never print it.
	env string
}

// scalar reads n as a scalar for a field that wants one (want names it in
// messages: "a string", "an integer"). ok is false after a problem has
// been reported.
func (d *decoder) scalar(n *yaml.Node, path, want string) (s scalarText, ok bool) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n.Line, path, "must be %s, got %s", want, describe(n))
		return s, false
	}
	s.tag = n.ShortTag()
	switch s.tag {
	case "!!str", "!!int", "!!float", "!!bool", "!!timestamp":
	default:
		d.errorf(n.Line, path, "must be %s, got %s", want, describe(n))
		return s, false
	}
	text, vars, err := expand(n.Value, d.lookup)
	if err != nil {
		d.errorf(n.Line, path, "%s", err.Error())
		return s, false
	}
	s.text = text
	if len(vars) > 0 {
		s.env = vars[0]
		d.src.env[path] = s.env
		s.tag = (&yaml.Node{Kind: yaml.ScalarNode, Value: text}).ShortTag()
	}
	return s, true
}

// got describes a rejected value for a message: `, got "abc"` for text
// written in the file, or a note naming the environment variable it came
// from (whose value must not be printed).
func (s scalarText) got() string {
	if s.env != "" {
		return " (value from environment variable " + s.env + ")"
	}
	return ", got " + strconv.Quote(s.text)
}

// str stores any scalar's text. Numbers, booleans and dates are taken as
// written ("api_version: 2024-06-01" is the string "2024-06-01"). A value
// that expands to "" counts as absent, so ${VAR:-} selects the default.
func (d *decoder) str(n *yaml.Node, v reflect.Value, path string) {
	s, ok := d.scalar(n, path, "a string")
	if !ok || s.env != "" && s.text == "" {
		return
	}
	v.SetString(s.text)
	d.src.set[path] = true
}

// boolean stores true or false; YAML 1.1 spellings (yes, on) are rejected.
func (d *decoder) boolean(n *yaml.Node, v reflect.Value, path string) {
	s, ok := d.scalar(n, path, "true or false")
	if !ok || s.tag == "!!null" {
		return
	}
	if s.tag != "!!bool" {
		d.errorf(n.Line, path, "must be true or false%s", s.got())
		return
	}
	b, err := strconv.ParseBool(s.text)
	if err != nil {
		d.errorf(n.Line, path, "must be true or false%s", s.got())
		return
	}
	v.SetBool(b)
	d.src.set[path] = true
}

// integer stores a YAML integer (decimal, 0x, 0o, 0b, with _ separators)
// that fits the field.
func (d *decoder) integer(n *yaml.Node, v reflect.Value, path string) {
	s, ok := d.scalar(n, path, "an integer")
	if !ok || s.tag == "!!null" {
		return
	}
	var i int64
	if s.tag != "!!int" || (&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: s.text}).Decode(&i) != nil {
		d.errorf(n.Line, path, "must be an integer%s", s.got())
		return
	}
	if v.OverflowInt(i) {
		d.errorf(n.Line, path, "integer out of range%s", s.got())
		return
	}
	v.SetInt(i)
	d.src.set[path] = true
}

// float stores a YAML number (integer or decimal); .inf and .nan are
// rejected.
func (d *decoder) float(n *yaml.Node, v reflect.Value, path string) {
	s, ok := d.scalar(n, path, "a number")
	if !ok || s.tag == "!!null" {
		return
	}
	var f float64
	if s.tag != "!!int" && s.tag != "!!float" ||
		(&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: s.text}).Decode(&f) != nil ||
		math.IsInf(f, 0) || math.IsNaN(f) {
		d.errorf(n.Line, path, "must be a number%s", s.got())
		return
	}
	v.SetFloat(f)
	d.src.set[path] = true
}

// duration stores a Go duration string ("30s", "1m30s", "250ms"). A plain
// number other than 0 is an error: its unit would be a guess.
func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	const hint = "must be a duration such as 30s, 1m or 1h30m (units: ns, us, ms, s, m, h)"
	s, ok := d.scalar(n, path, "a duration such as 30s")
	if !ok || s.tag == "!!null" {
		return
	}
	var dur time.Duration
	switch s.tag {
	case "!!str":
		var err error
		if dur, err = time.ParseDuration(s.text); err != nil {
			d.errorf(n.Line, path, "%s%s", hint, s.got())
			return
		}
	case "!!int", "!!float":
		var f float64
		if (&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: s.text}).Decode(&f) != nil || f != 0 {
			d.errorf(n.Line, path, "a plain number is not a duration; use a unit, e.g. 30s, 1m or 250ms%s", s.got())
			return
		}
	default:
		d.errorf(n.Line, path, "%s%s", hint, s.got())
		return
	}
	v.SetInt(int64(dur))
	d.src.set[path] = true
}
