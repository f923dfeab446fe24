package config

import (
	"fmt"
	"reflect"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// decoder fills a Config from a yaml.Node tree. It walks the tree itself,
// rather than using yaml's reflection decoder, so that every problem —
// unknown key, duplicate key, wrong type, unset environment variable —
// carries its line and key path, and so that ${ENV} expansion touches
// scalar values only, after parsing.
//
// It supports the Go types the schema uses: structs (keys from `yaml`
// tags), string kinds, bool, int kinds, Duration, slices and maps with
// string keys. Anchors, aliases and merge keys ("<<") work; an alias used
// inside its own anchor is an error, and a budget bounds the work aliases
// can multiply. Top-level keys starting with "x-" are ignored, so shared
// blocks can be defined there (as in Docker Compose files).
type decoder struct {
	src    *source
	lookup func(string) (string, bool)
	errs   *errorList
	budget int
	active map[*yaml.Node]bool // alias targets being decoded, to catch cycles
	outer  *yaml.Node          // the outermost alias being decoded, if any
}

var durationType = reflect.TypeFor[Duration]()

func (d *decoder) errorf(line int, path, format string, args ...any) {
	d.errs.add(&Error{File: d.src.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// spend takes one unit of work from the budget and reports whether any was
// left; the first overdraft is reported once.
func (d *decoder) spend(n *yaml.Node) bool {
	d.budget--
	if d.budget == -1 {
		if d.outer != nil {
			n = d.outer // where the expansion started, rather than deep inside it
		}
		d.errorf(n.Line, "", "document too large: aliases expand to too many nodes")
	}
	return d.budget >= 0
}

// deref follows an alias to its anchor, reporting cycles. It returns nil
// after reporting a problem; release must be called when done with a
// non-nil result.
func (d *decoder) deref(n *yaml.Node, path string) (*yaml.Node, func()) {
	if n.Kind != yaml.AliasNode {
		return n, func() {}
	}
	t := n.Alias
	switch {
	case t == nil || t.Kind == yaml.AliasNode:
		// The parser never anchors an alias; guard against it anyway.
		d.errorf(n.Line, path, "alias *%s refers to no anchor", n.Value)
		return nil, nil
	case d.active[t]:
		d.errorf(n.Line, path, "alias *%s is used inside its own anchor", n.Value)
		return nil, nil
	}
	if len(d.active) == 0 {
		d.outer = n
	}
	d.active[t] = true
	return t, func() {
		delete(d.active, t)
		if len(d.active) == 0 {
			d.outer = nil
		}
	}
}

// decode stores node n into v, which has the schema type found at path.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if !d.spend(n) {
		return
	}
	n, release := d.deref(n, path)
	if n == nil {
		return
	}
	defer release()
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // null: the key is absent and keeps its zero value
	}
	t := v.Type()
	switch {
	case t == durationType:
		d.duration(n, v, path)
	case t == jsonType:
		d.jsonValue(n, v, path)
	case t.Kind() == reflect.Pointer:
		p := reflect.New(t.Elem())
		d.decode(n, p.Elem(), path)
		v.Set(p)
	case t.Kind() == reflect.Struct:
		d.object(n, v, path)
	case t.Kind() == reflect.Slice:
		d.list(n, v, path)
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String:
		d.dict(n, v, path)
	case t.Kind() == reflect.String:
		d.str(n, v, path)
	case t.Kind() == reflect.Bool:
		d.boolean(n, v, path)
	case v.CanInt():
		d.integer(n, v, path)
	case v.CanFloat():
		d.float(n, v, path)
	default:
		panic("config: schema field of unsupported type " + t.String()) // a programming error
	}
}

// object decodes a mapping into a struct, matching keys to `yaml` tags.
func (d *decoder) object(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		if path == "" {
			d.errorf(n.Line, "", "the top level must be a mapping of keys (server, log, providers, models, mock, auth, store, request_log, metrics, tracing, pricing), got %s", describe(n))
			return
		}
		d.errorf(n.Line, path, "must be a mapping of keys, got %s", describe(n))
		return
	}
	fields := fieldsOf(v.Type())
	for _, e := range d.entries(n, path) {
		p := fieldPath(path, e.key)
		d.src.lines[p] = e.line
		i, ok := fields.index[e.key]
		if !ok && path == "" && strings.HasPrefix(e.key, "x-") {
			continue // an extension key, a place to define anchors
		}
		if !ok {
			d.errorf(e.line, p, "unknown key%s", suggest(e.key, fields.names))
			continue
		}
		d.decode(e.val, v.Field(i), p)
	}
}

// list decodes a sequence into a slice.
func (d *decoder) list(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n.Line, path, "must be a list, got %s", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		p := indexPath(path, i)
		d.src.lines[p] = item.Line
		d.decode(item, s.Index(i), p)
	}
	v.Set(s)
}

// dict decodes a mapping into a map with string keys.
func (d *decoder) dict(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, path, "must be a mapping of keys, got %s", describe(n))
		return
	}
	entries := d.entries(n, path)
	m := reflect.MakeMapWithSize(v.Type(), len(entries))
	for _, e := range entries {
		p := fieldPath(path, e.key)
		d.src.lines[p] = e.line
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(e.val, elem, p)
		m.SetMapIndex(reflect.ValueOf(e.key).Convert(v.Type().Key()), elem)
	}
	v.Set(m)
}

// entry is one key of a mapping after merge keys are applied.
type entry struct {
	key  string
	line int
	val  *yaml.Node
}

// entries lists a mapping's keys in order, reporting keys that are not
// strings and duplicates. Keys merged in with "<<" come after the mapping's
// own and never override them; among merged mappings the first wins.
func (d *decoder) entries(n *yaml.Node, path string) []entry {
	out := make([]entry, 0, len(n.Content)/2)
	seen := make(map[string]int, len(n.Content)/2)
	var merged []entry
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if !d.spend(k) {
			return out
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(k.Line, path, "keys must be plain strings, got %s", describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			merged = append(merged, d.merge(val, path)...)
			continue
		}
		if j, dup := seen[k.Value]; dup {
			d.errorf(k.Line, fieldPath(path, k.Value), "duplicate key (first at line %d)", out[j].line)
			continue
		}
		seen[k.Value] = len(out)
		out = append(out, entry{key: k.Value, line: k.Line, val: val})
	}
	for _, e := range merged {
		if !d.spend(e.val) {
			break
		}
		if _, dup := seen[e.key]; !dup {
			seen[e.key] = len(out)
			out = append(out, e)
		}
	}
	return out
}

// merge returns the entries a "<<" value brings in: a mapping (usually an
// alias to one) or a list of them.
func (d *decoder) merge(val *yaml.Node, path string) []entry {
	if !d.spend(val) {
		return nil
	}
	n, release := d.deref(val, path)
	if n == nil {
		return nil
	}
	defer release()
	switch n.Kind {
	case yaml.MappingNode:
		return d.entries(n, path)
	case yaml.SequenceNode:
		var out []entry
		seen := map[string]bool{}
		for _, item := range n.Content {
			m, release := d.deref(item, path)
			if m == nil {
				continue
			}
			if m.Kind != yaml.MappingNode {
				d.errorf(item.Line, path, `"<<" merges mappings, got %s`, describe(m))
				release()
				continue
			}
			for _, e := range d.entries(m, path) {
				if !seen[e.key] {
					seen[e.key] = true
					out = append(out, e)
				}
			}
			release()
		}
		return out
	}
	d.errorf(val.Line, path, `"<<" merges mappings, got %s`, describe(n))
	return nil
}

// schemaFields maps the YAML keys of a struct type to field indexes.
type schemaFields struct {
	index map[string]int
	names []string // in declaration order, for suggestions
}

var fieldCache sync.Map // reflect.Type → *schemaFields

func fieldsOf(t reflect.Type) *schemaFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*schemaFields)
	}
	f := &schemaFields{index: map[string]int{}}
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if !sf.IsExported() || name == "-" || name == "" {
			continue
		}
		f.index[name] = i
		f.names = append(f.names, name)
	}
	fieldCache.Store(t, f)
	return f
}
