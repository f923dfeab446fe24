package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// nopPurger is a CachePurger that purges nothing, so the cache routes are
// registered.
type nopPurger struct{}

func (nopPurger) PurgeKey(context.Context, string) (bool, error)  { return false, nil }
func (nopPurger) PurgeModel(context.Context, string) (int, error) { return 0, nil }
func (nopPurger) PurgeAll(context.Context) (int, error)           { return 0, nil }

// oaDoc is the part of an OpenAPI document the test reads.
type oaDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		SecuritySchemes map[string]struct {
			Type   string `json:"type"`
			Scheme string `json:"scheme"`
		} `json:"securitySchemes"`
		Parameters map[string]oaParam `json:"parameters"`
	} `json:"components"`
}

type oaParam struct {
	Ref      string `json:"$ref"`
	Name     string `json:"name"`
	In       string `json:"in"`
	Required bool   `json:"required"`
}

type oaOperation struct {
	Parameters []oaParam                  `json:"parameters"`
	Responses  map[string]json.RawMessage `json:"responses"`
}

// httpMethods are the OpenAPI operation keys of a path item.
var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func loadOpenAPI(t *testing.T) (oaDoc, any) {
	t.Helper()
	var doc oaDoc
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	var raw any
	if err := json.Unmarshal(openAPI, &raw); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	if s := doc.Components.SecuritySchemes["bearerAuth"]; s.Type != "http" || s.Scheme != "bearer" {
		t.Errorf("securitySchemes.bearerAuth = %+v, want http bearer", s)
	}
	return doc, raw
}

// fullServer is a server with every optional endpoint registered.
func fullServer(t *testing.T) *server {
	t.Helper()
	db := sqliteStore(t)
	h, err := New(Options{Logs: db, Store: db, AdminKey: testKey, Cache: nopPurger{}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return h.(*server)
}

// oaPath turns a mux pattern into an OpenAPI path: {id...} is {id}.
func oaPath(pattern string) string { return strings.ReplaceAll(pattern, "...}", "}") }

func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc, _ := loadOpenAPI(t)
	s := fullServer(t)
	var registered, documented []string
	for _, r := range s.registered {
		method, path, _ := strings.Cut(r, " ")
		registered = append(registered, strings.ToLower(method)+" "+oaPath(path))
	}
	for path, item := range doc.Paths {
		for m := range item {
			if slices.Contains(httpMethods, m) {
				documented = append(documented, m+" "+path)
			}
		}
	}
	slices.Sort(registered)
	slices.Sort(documented)
	if len(registered) < 30 {
		t.Fatalf("only %d routes registered; the hook misses some: %v", len(registered), registered)
	}
	if diff := cmp.Diff(documented, registered); diff != "" {
		t.Errorf("openapi.json operations (-documented +registered):\n%s", diff)
	}
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

func TestOpenAPIOperations(t *testing.T) {
	doc, _ := loadOpenAPI(t)
	for path, item := range doc.Paths {
		for m, raw := range item {
			if !slices.Contains(httpMethods, m) {
				continue
			}
			var op oaOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Errorf("%s %s: %v", m, path, err)
				continue
			}
			if op.Responses["200"] == nil && op.Responses["201"] == nil && op.Responses["204"] == nil {
				t.Errorf("%s %s: no 200, 201 or 204 response", m, path)
			}
			if op.Responses["401"] == nil {
				t.Errorf("%s %s: no 401 response", m, path)
			}
			declared := map[string]bool{}
			for _, p := range op.Parameters {
				if p.Ref != "" {
					p = doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
				}
				if p.In == "path" {
					if !p.Required {
						t.Errorf("%s %s: path parameter %s is not required", m, path, p.Name)
					}
					declared[p.Name] = true
				}
			}
			for _, match := range pathParam.FindAllStringSubmatch(path, -1) {
				if !declared[match[1]] {
					t.Errorf("%s %s: path parameter %s is not declared", m, path, match[1])
				}
			}
		}
	}
}

func TestOpenAPIRefsResolve(t *testing.T) {
	_, raw := loadOpenAPI(t)
	n := 0
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if ref, ok := e.(string); ok && k == "$ref" {
					n++
					if _, err := resolvePointer(raw, ref); err != nil {
						t.Errorf("$ref %s: %v", ref, err)
					}
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(raw)
	if n == 0 {
		t.Error("no $ref found; the walk is broken")
	}
}

// resolvePointer follows a local JSON pointer ("#/a/b") in doc.
func resolvePointer(doc any, ref string) (any, error) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, errNotLocal
	}
	cur := doc
	for _, tok := range strings.Split(rest, "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, errNoTarget
		}
		if cur, ok = m[tok]; !ok {
			return nil, errNoTarget
		}
	}
	return cur, nil
}

var (
	errNotLocal = errors.New("not a local reference")
	errNoTarget = errors.New("no such member")
)

func TestResolvePointer(t *testing.T) {
	doc := map[string]any{"a": map[string]any{"b/c": 1}}
	if v, err := resolvePointer(doc, "#/a/b~1c"); err != nil || v != 1 {
		t.Errorf("resolvePointer(#/a/b~1c) = %v, %v; want 1", v, err)
	}
	for _, ref := range []string{"#/a/x", "#/a/b~1c/d", "other.json#/a"} {
		if _, err := resolvePointer(doc, ref); err == nil {
			t.Errorf("resolvePointer(%s) resolved; want an error", ref)
		}
	}
}

func TestServeOpenAPI(t *testing.T) {
	db := sqliteStore(t)
	base, _ := serve(t, db, Options{AdminKey: testKey})
	r := get(t, base, Prefix+"/openapi.json")
	if r.status != http.StatusOK {
		t.Fatalf("GET openapi.json = %d %s, want 200", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if !bytes.Equal(r.body, openAPI) {
		t.Errorf("body differs from the embedded document (%d bytes, want %d)", len(r.body), len(openAPI))
	}
	if r := do(t, http.MethodGet, base, Prefix+"/openapi.json", ""); r.status != http.StatusUnauthorized {
		t.Errorf("GET openapi.json without a key = %d, want 401", r.status)
	}
	if r := do(t, http.MethodPost, base, Prefix+"/openapi.json", testKey); r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST openapi.json = %d, want 405", r.status)
	}
}
