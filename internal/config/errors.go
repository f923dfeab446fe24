package config

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is one problem found in a config: a YAML syntax error, a key that
// does not belong, a value of the wrong type or one that fails validation.
// Load, Parse, Default and Validate return every problem they find joined
// with errors.Join; errors.As finds the first, and the joined error's
// Unwrap() []error lists them all.
//
// Messages never contain a value that came from an environment variable
// (it may be a secret); they name the variable instead.
type Error struct {
	// File is the config file's name as given to Load or Parse; empty for
	// the embedded default and for a Config built in code.
	File string
	// Line is the 1-based line of the offending key or list item; 0 when
	// unknown (no file).
	Line int
	// Path is the key path, e.g. "providers[1].base_url"; empty for
	// problems with the file as a whole.
	Path string
	// Msg says what is wrong, and where it helps, what to write instead.
	Msg string
}

// Error formats e as "file:line: path: msg", leaving out the parts that are
// unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// maxErrors bounds how many problems one load reports; the rest are
// counted in a final line.
const maxErrors = 50

// errorList collects problems in the order they are found.
type errorList struct {
	errs    []*Error
	dropped int
}

func (l *errorList) add(e *Error) {
	if len(l.errs) >= maxErrors {
		l.dropped++
		return
	}
	l.errs = append(l.errs, e)
}

// err returns the problems sorted by line (those without a line keep their
// order, after the others) joined into one error, or nil if there are none.
func (l *errorList) err(file string) error {
	if len(l.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(l.errs, func(a, b *Error) int {
		switch {
		case a.Line == b.Line:
			return 0
		case a.Line == 0:
			return 1
		case b.Line == 0:
			return -1
		}
		return a.Line - b.Line
	})
	errs := make([]error, 0, len(l.errs)+1)
	for _, e := range l.errs {
		errs = append(errs, e)
	}
	if l.dropped > 0 {
		errs = append(errs, &Error{File: file, Msg: fmt.Sprintf("%d more problems not shown", l.dropped)})
	}
	return errors.Join(errs...)
}

// covered reports whether path is at or under a path that already has a
// problem: validation stays quiet about what decoding could not read.
func (l *errorList) covered(path string) bool {
	for _, e := range l.errs {
		if e.Path == "" {
			continue
		}
		if path == e.Path || strings.HasPrefix(path, e.Path) && (path[len(e.Path)] == '.' || path[len(e.Path)] == '[') {
			return true
		}
	}
	return false
}

var (
	yamlLine      = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)
)

// parserProblems are the messages of go.yaml.in/yaml/v3's parser (as
// opposed to its scanner), whose line it reports 0-based.
var parserProblems = map[string]bool{
	"did not find expected key":              true,
	"did not find expected '-' indicator":    true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected node content":     true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"found undefined tag handle":             true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
}

// syntaxError turns a go.yaml.in/yaml/v3 parse error ("yaml: line 3: did
// not find expected key") into an *Error for file with a 1-based line:
// yaml reports parser errors 0-based, leaves the line out of errors on
// the first line, and gives none for bad encoding or unknown anchors, so
// those are found in data.
func syntaxError(file string, data []byte, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	switch {
	case parserProblems[msg]:
		line++
	case line > 0:
	case strings.HasPrefix(msg, "found ") || strings.HasPrefix(msg, "did not find") ||
		strings.HasPrefix(msg, "could not find") || strings.HasSuffix(msg, "not allowed in this context"):
		line = 1 // a scanner error on the first line
	case strings.Contains(msg, "UTF-") || strings.Contains(msg, "Unicode") || strings.Contains(msg, "control characters"):
		line = lineAt(data, badByte(data))
	default:
		if m := unknownAnchor.FindStringSubmatch(msg); m != nil {
			if i := bytes.Index(data, []byte("*"+m[1])); i >= 0 {
				line = lineAt(data, i)
			}
		}
	}
	if lines := countLines(data); line > lines {
		line = lines // errors at the end of input point past the last line
	}
	return &Error{File: file, Line: line, Msg: "invalid YAML: " + strings.ReplaceAll(msg, "\n", " ")}
}

// badByte returns the offset of the first byte YAML's reader rejects:
// invalid UTF-8 or a character outside YAML's printable set; -1 if none.
func badByte(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		printable := r == '\t' || r == '\n' || r == '\r' || 0x20 <= r && r <= 0x7e || r == 0x85 ||
			0xa0 <= r && r <= 0xd7ff || 0xe000 <= r && r <= 0xfffd || 0x10000 <= r && r <= 0x10ffff
		if r == utf8.RuneError && size <= 1 || !printable {
			return i
		}
		i += size
	}
	return -1
}

// lineAt returns the 1-based line of byte offset i, or 0 for i < 0.
func lineAt(data []byte, i int) int {
	if i < 0 {
		return 0
	}
	return bytes.Count(data[:i], []byte("\n")) + 1
}

// countLines returns the number of lines in data, the last one counted
// whether or not it ends in a line break.
func countLines(data []byte) int {
	n := bytes.Count(data, []byte("\n"))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		n++
	}
	return max(n, 1)
}
