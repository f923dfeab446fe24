package admin

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/llm"
)

// This file dispatches an authenticated request to its endpoint and is
// the one place that audits writes and writes answers.

// handlerFunc is an admin endpoint. It sets its answer with c.reply, or
// returns the error that writeError turns into the response; it never
// writes the body itself, so a write is audited before its answer leaves.
type handlerFunc func(w http.ResponseWriter, r *http.Request, c *call) error

// endpoint is one method of a resource.
type endpoint struct {
	// action is the audit action of a write ("key.create"); "" for a read,
	// which is not audited.
	action string
	h      handlerFunc
}

// methods are a resource's endpoints by method; "GET" serves HEAD too.
type methods map[string]endpoint

// resource serves one path pattern.
type resource struct {
	s       *server
	methods methods
	allow   string // the Allow header of a 405
}

// call is one authenticated request as its handler sees it.
type call struct {
	p     auth.Principal
	scope scope
	// target is the ID the action concerns; a write handler that creates
	// one sets it. It starts as the path's {id}.
	target string
	// detail is what the audit entry says of a successful write (never
	// secrets); nil for none.
	detail map[string]string
	// action, when a handler sets it, replaces the endpoint's audit
	// action for this call (a PATCH that rotates a secret).
	action string
	// status and body are the answer; status 0 means none was set.
	status int
	body   []byte
}

// reply sets the answer: status with a JSON body, or no body when body is
// nil (204).
func (c *call) reply(status int, body []byte) { c.status, c.body = status, body }

// handle registers the endpoints of path (relative to Prefix).
func (s *server) handle(path string, ms methods) {
	allow := slices.Sorted(maps.Keys(ms))
	for _, m := range allow {
		s.registered = append(s.registered, m+" "+path)
	}
	if ms["GET"].h != nil {
		allow = append(allow, "HEAD")
		slices.Sort(allow)
	}
	s.mux.Handle(Prefix+path, &resource{s: s, methods: ms, allow: strings.Join(allow, ", ")})
}

// endpoint returns the endpoint serving method, HEAD served by GET.
func (res *resource) endpoint(method string) (endpoint, bool) {
	if method == http.MethodHead {
		method = http.MethodGet
	}
	ep, ok := res.methods[method]
	return ep, ok
}

func (res *resource) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := res.s
	ep, ok := res.endpoint(r.Method)
	if !ok {
		w.Header().Set("Allow", res.allow)
		s.writeError(w, r, &llm.Error{Status: http.StatusMethodNotAllowed,
			Type: llm.TypeInvalidRequest, Code: "method_not_allowed", Fault: llm.FaultCaller,
			Message: fmt.Sprintf("method %s is not allowed on %s", r.Method, r.URL.Path)})
		return
	}
	c := &call{p: principalFrom(r.Context()), target: r.PathValue("id")}
	c.scope = scopeOf(&c.p)
	err := ep.h(w, r, c)
	if action := ep.action; action != "" {
		if c.action != "" {
			action = c.action
		}
		switch e := llm.AsError(err); {
		case err == nil:
			s.audit(r, &c.p, action, c.target, c.detail)
		case e.Status == http.StatusForbidden || errors.Is(err, errOutOfScope):
			s.auditDenied(r, &c.p, action, c.target, e.Status)
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if c.body == nil {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(c.status)
		return
	}
	writeJSON(w, c.status, c.body)
}

// writeAction returns the audit action of the write endpoint r is for, or
// "" when r is a read or matches no endpoint. It routes without serving,
// for auditing requests refused before routing.
func (s *server) writeAction(r *http.Request) string {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return ""
	}
	h, _ := s.mux.Handler(r)
	if res, ok := h.(*resource); ok {
		ep, _ := res.endpoint(r.Method)
		return ep.action
	}
	return ""
}

// idFromPath returns the {id} segment of an admin path (the one after the
// collection: /admin/v1/keys/{id}/rotate), or "". For requests refused
// before routing, which have no path values.
func idFromPath(path string) string {
	rest, ok := strings.CutPrefix(path, Prefix+"/")
	if !ok {
		return ""
	}
	parts := strings.SplitN(rest, "/", 3)
	if len(parts) < 2 {
		return ""
	}
	return parts[1]
}

func notFound(r *http.Request) *llm.Error {
	return &llm.Error{Status: http.StatusNotFound, Type: llm.TypeNotFound, Code: "not_found",
		Fault: llm.FaultCaller, Message: fmt.Sprintf("no admin endpoint at %s", r.URL.Path)}
}
