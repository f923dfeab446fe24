package config

import (
	"errors"
	"fmt"
	"strings"
)

// expand substitutes environment variables in one scalar value:
//
//	${VAR}            the value of VAR; an error if VAR is not set
//	${VAR:-default}   the value of VAR, or default when VAR is unset or
//	                  empty; default is literal text up to the first "}"
//	$$                a literal "$"
//
// Any other "$" is kept as it is. VAR is [A-Za-z_][A-Za-z0-9_]*. The result
// is never parsed as YAML again, so a value cannot inject structure.
//
// expand returns the names of the variables it substituted, in order.
// Errors name the variable but never a value.
func expand(s string, lookup func(string) (string, bool)) (string, []string, error) {
	i := strings.IndexByte(s, '$')
	if i < 0 {
		return s, nil, nil
	}
	var (
		b    strings.Builder
		vars []string
	)
	b.Grow(len(s))
	for ; i >= 0; i = strings.IndexByte(s, '$') {
		b.WriteString(s[:i])
		s = s[i:]
		switch {
		case strings.HasPrefix(s, "$$"):
			b.WriteByte('$')
			s = s[2:]
		case strings.HasPrefix(s, "${"):
			end := strings.IndexByte(s, '}')
			if end < 0 {
				return "", vars, errors.New(`unterminated "${": missing "}"`)
			}
			name, def, hasDef, err := splitRef(s[2:end])
			if err != nil {
				return "", vars, err
			}
			v, ok := lookup(name)
			switch {
			case hasDef && v == "":
				v = def
			case !ok:
				return "", vars, fmt.Errorf("environment variable %s is not set (write ${%s:-default} for a fallback)", name, name)
			}
			vars = append(vars, name)
			b.WriteString(v)
			s = s[end+1:]
		default:
			b.WriteByte('$')
			s = s[1:]
		}
	}
	b.WriteString(s)
	return b.String(), vars, nil
}

// splitRef parses the inside of "${...}": "VAR" or "VAR:-default".
func splitRef(ref string) (name, def string, hasDef bool, err error) {
	n := 0
	for n < len(ref) && isVarByte(ref[n], n == 0) {
		n++
	}
	name, rest := ref[:n], ref[n:]
	switch {
	case name == "":
		return "", "", false, errors.New(`"${" must be followed by a variable name ([A-Za-z_][A-Za-z0-9_]*)`)
	case rest == "":
		return name, "", false, nil
	case strings.HasPrefix(rest, ":-"):
		return name, rest[2:], true, nil
	}
	return "", "", false, fmt.Errorf("unsupported form ${%s...}: write ${%s} or ${%s:-default} (and $$ for a literal $)", name, name, name)
}

func isVarByte(c byte, first bool) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '_' || !first && '0' <= c && c <= '9'
}
