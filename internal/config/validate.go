package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Validate checks the config as the gateway will use it (call ApplyDefaults
// first: an empty listen address, for instance, is an error here). It
// reports every problem, not just the first, joined with errors.Join; for a
// parsed Config each carries the file, line and key path (see Error). A nil
// result means the gateway can be built from c without further checks.
func (c *Config) Validate() error {
	l := &errorList{}
	for _, e := range c.validate() {
		l.add(e)
	}
	return l.err(c.src.fileName())
}

// validator collects the problems of one Config.
type validator struct {
	c    *Config
	errs []*Error
}

func (c *Config) validate() []*Error {
	v := &validator{c: c}
	v.server()
	v.log()
	v.mock()
	v.auth()
	v.cluster()
	v.limits()
	v.budgets()
	v.store()
	v.requestLog()
	v.tracing()
	v.pricing()
	names := v.providers()
	v.models(names)
	v.routing()
	v.routes(names)
	v.cache(names)
	v.guardrails(names)
	return v.errs
}

// bad reports a value at path that is wrong; if it came from an
// environment variable, the message names it (never the value).
func (v *validator) bad(path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if env := v.c.src.envVar(path); env != "" {
		msg += " (value from environment variable " + env + ")"
	}
	v.add(path, msg)
}

// missing reports a required value at path that is empty.
func (v *validator) missing(path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if env := v.c.src.envVar(path); env != "" {
		msg += " (environment variable " + env + " is empty)"
	}
	v.add(path, msg)
}

func (v *validator) add(path, msg string) {
	v.errs = append(v.errs, &Error{File: v.c.src.fileName(), Line: v.c.src.line(path), Path: path, Msg: msg})
}

// show quotes a rejected value for a message, unless it came from an
// environment variable (bad then names the variable instead).
func (v *validator) show(path, value string) string {
	if v.c.src.envVar(path) != "" {
		return ""
	}
	return ", got " + strconv.Quote(value)
}

// q quotes a value for a message, or says "this value" if it came from an
// environment variable (bad then names the variable).
func (v *validator) q(path, value string) string {
	if v.c.src.envVar(path) != "" {
		return "this value"
	}
	return strconv.Quote(value)
}

// firstAt describes where an earlier duplicate was: its line, or its path
// when there is no file.
func (v *validator) firstAt(path string) string {
	if l := v.c.src.line(path); l > 0 {
		return fmt.Sprintf("line %d", l)
	}
	return path
}

func (v *validator) server() {
	s := &v.c.Server
	switch {
	case s.Listen == "":
		v.missing("server.listen", "required: the host:port to serve on, e.g. 127.0.0.1:8080")
	default:
		if msg := checkListen(s.Listen); msg != "" {
			v.bad("server.listen", "%s%s", msg, v.show("server.listen", s.Listen))
		}
	}
	if s.MaxBodyBytes <= 0 {
		v.bad("server.max_body_bytes", "must be greater than 0 (bytes; the default is %d)", defaultMaxBodyBytes)
	}
	v.nonNegative("server.read_header_timeout", s.ReadHeaderTimeout)
	v.nonNegative("server.idle_timeout", s.IdleTimeout)
	v.nonNegative("server.shutdown_grace", s.ShutdownGrace)
	if s.DataDir == "" {
		v.missing("server.data_dir", "required: a directory for the gateway's files")
	}
}

// checkListen returns what is wrong with a listen address, or "".
func checkListen(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "must be host:port, e.g. 127.0.0.1:8080 or :8080"
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || port == "" || n > 65535 {
		return "port must be a number from 0 to 65535"
	}
	return ""
}

func (v *validator) nonNegative(path string, d Duration) {
	if d < 0 {
		v.bad(path, "must not be negative")
	}
}

func (v *validator) log() {
	switch v.c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		v.bad("log.level", "must be debug, info, warn or error%s", v.show("log.level", v.c.Log.Level))
	}
	switch v.c.Log.Format {
	case "text", "json":
	default:
		v.bad("log.format", "must be text or json%s", v.show("log.format", v.c.Log.Format))
	}
}

func (v *validator) mock() {
	v.nonNegative("mock.latency", v.c.Mock.Latency)
}

// validHeaderValue reports whether s can be sent as an HTTP header value:
// no control characters other than tab (a line break would end the header).
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}
