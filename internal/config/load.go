package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"

	"go.yaml.in/yaml/v3"
)

// Load reads the config file at path and parses it with Parse, naming path
// in every error. The returned Config is valid and has its defaults applied.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes a YAML config strictly, expands ${ENV} references in its
// values from the process environment, applies defaults and validates it.
// filename is used in error messages ("sluice.yaml:7: providers[1].base_url:
// ...") and stored in Config.Path. An empty document is a config with every
// default.
//
// On failure Parse returns a nil Config and an error joining every problem
// found (see Error), sorted by line.
func Parse(data []byte, filename string) (*Config, error) {
	return parse(data, filename, os.LookupEnv)
}

// parse is Parse with the environment as a parameter.
func parse(data []byte, filename string, lookup func(string) (string, bool)) (*Config, error) {
	root, err := parseYAML(data, filename)
	if err != nil {
		return nil, err
	}
	c := &Config{Path: filename, src: newSource(filename)}
	decodeErrs := &errorList{}
	if root != nil {
		d := &decoder{
			src:    c.src,
			lookup: lookup,
			errs:   decodeErrs,
			budget: 200_000 + 4*countNodes(root),
			active: map[*yaml.Node]bool{},
		}
		d.decode(root, reflect.ValueOf(c).Elem(), "")
		if d.budget < 0 {
			// The Config is cut short; validating it would only add noise.
			return nil, decodeErrs.err(filename)
		}
	}
	c.ApplyDefaults()
	all := &errorList{errs: decodeErrs.errs, dropped: decodeErrs.dropped}
	for _, e := range c.validate() {
		// A value that could not be decoded was left zero; do not also
		// report it as missing.
		if !decodeErrs.covered(e.Path) {
			all.add(e)
		}
	}
	if err := all.err(filename); err != nil {
		return nil, err
	}
	return c, nil
}

// parseYAML parses data into a node tree and returns its root node, or nil
// for an empty document. More than one document is an error.
func parseYAML(data []byte, filename string) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(filename, data, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxError(filename, data, err)
	default:
		return nil, &Error{File: filename, Line: next.Line, Msg: "a config file holds one YAML document; remove the second one (after ---)"}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// countNodes counts the nodes of a tree without following aliases.
func countNodes(n *yaml.Node) int {
	c := 1
	for _, k := range n.Content {
		c += countNodes(k)
	}
	return c
}
