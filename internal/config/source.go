package config

import (
	"strconv"
	"strings"
)

// source remembers, per key path, what the decoder saw: the line, whether a
// non-null value was written (so that defaults leave an explicit zero
// alone), and which environment variable a value came from (so that
// messages can name it instead of printing the value). Its methods accept a
// nil receiver, which is a Config built in code: no lines, nothing explicit.
type source struct {
	file  string
	lines map[string]int    // key path → line of the key or list item
	set   map[string]bool   // key paths written with a non-null value
	env   map[string]string // key path → first environment variable in its value
}

func newSource(file string) *source {
	return &source{file: file, lines: map[string]int{}, set: map[string]bool{}, env: map[string]string{}}
}

// line returns the line of path or, if path itself was not written (a
// required key that is missing), of its nearest written ancestor.
func (s *source) line(path string) int {
	if s == nil {
		return 0
	}
	for path != "" {
		if l, ok := s.lines[path]; ok {
			return l
		}
		path = parentPath(path)
	}
	return 0
}

// explicit reports whether path was written in the file with a value.
func (s *source) explicit(path string) bool { return s != nil && s.set[path] }

// envVar returns the environment variable path's value came from, or "".
func (s *source) envVar(path string) string {
	if s == nil {
		return ""
	}
	return s.env[path]
}

// envUnder reports whether a value at path, or anywhere below it, came
// from an environment variable.
func (s *source) envUnder(path string) bool {
	if s == nil {
		return false
	}
	for p := range s.env {
		if p == path || strings.HasPrefix(p, path) && (p[len(path)] == '.' || p[len(path)] == '[') {
			return true
		}
	}
	return false
}

// fileName is the file errors name; "" without a source.
func (s *source) fileName() string {
	if s == nil {
		return ""
	}
	return s.file
}

// fieldPath appends a mapping key to a key path: "server" + "listen" =
// "server.listen". Keys other than [A-Za-z0-9_-]+ are quoted,
// `headers["X Bad"]`, so that a path is one line and unambiguous.
func fieldPath(parent, key string) string {
	if !plainKey(key) {
		return parent + "[" + strconv.Quote(key) + "]"
	}
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// indexPath appends a list index to a key path: "providers[1]".
func indexPath(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}

// parentPath drops the last element of a key path.
func parentPath(p string) string {
	if strings.HasSuffix(p, `"]`) {
		// A quoted key: strconv.Quote escapes every '"' inside it, so the
		// last `["` opens it.
		if i := strings.LastIndex(p, `["`); i >= 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndexAny(p, ".["); i >= 0 {
		return p[:i]
	}
	return ""
}

func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
