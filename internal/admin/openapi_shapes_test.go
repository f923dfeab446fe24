package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// This file checks real answers against openapi.json: every member an
// answer has is documented (schemas are closed), every required one is
// there, and types, consts and enums hold. A small checker, enough for
// the schema features the document uses ($ref, allOf, type, const, enum,
// properties, required, additionalProperties, items).

// shapeChecker checks values against schemas of one document.
type shapeChecker struct {
	t   *testing.T
	doc any
}

// schemaOf returns the schema of op's answer with status, following a
// $ref to a shared response.
func (sc shapeChecker) schemaOf(method, path, status string) any {
	sc.t.Helper()
	resp, err := resolvePointer(sc.doc, "#/paths/"+strings.ReplaceAll(path, "/", "~1")+"/"+method+"/responses/"+status)
	if err != nil {
		sc.t.Fatalf("%s %s: no %s response: %v", method, path, status, err)
	}
	v, err := resolvePointer(sc.deref(resp), "#/content/application~1json/schema")
	if err != nil {
		sc.t.Fatalf("%s %s %s: no JSON answer schema: %v", method, path, status, err)
	}
	return v
}

// deref follows $ref until a schema without one.
func (sc shapeChecker) deref(s any) map[string]any {
	m, _ := s.(map[string]any)
	for m != nil && m["$ref"] != nil {
		v, err := resolvePointer(sc.doc, m["$ref"].(string))
		if err != nil {
			sc.t.Fatalf("$ref %v: %v", m["$ref"], err)
		}
		m, _ = v.(map[string]any)
	}
	return m
}

// flatten merges an allOf into one object schema: properties and required
// of every part, closed when any part is.
func (sc shapeChecker) flatten(s map[string]any) map[string]any {
	parts, ok := s["allOf"].([]any)
	if !ok {
		return s
	}
	props, req, out := map[string]any{}, []any{}, map[string]any{"type": "object"}
	for _, p := range parts {
		pm := sc.flatten(sc.deref(p))
		if pp, ok := pm["properties"].(map[string]any); ok {
			for k, v := range pp {
				props[k] = v
			}
		}
		if r, ok := pm["required"].([]any); ok {
			req = append(req, r...)
		}
		if pm["additionalProperties"] == false {
			out["additionalProperties"] = false
		}
	}
	out["properties"], out["required"] = props, req
	return out
}

// jsonType names v's JSON type as a schema's "type" does; a whole number
// is "integer".
func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		if f, err := v.Float64(); err == nil && f == math.Trunc(f) && !strings.ContainsAny(v.String(), ".eE") {
			return "integer"
		}
		return "number"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return fmt.Sprintf("%T", v)
}

// check reports every way v breaks schema s, at where.
func (sc shapeChecker) check(s any, v any, where string) {
	sc.t.Helper()
	m := sc.flatten(sc.deref(s))
	if m == nil {
		return
	}
	got := jsonType(v)
	if typ, ok := m["type"]; ok {
		var want []string
		switch typ := typ.(type) {
		case string:
			want = []string{typ}
		case []any:
			for _, e := range typ {
				want = append(want, e.(string))
			}
		}
		if !slices.Contains(want, got) && !(got == "integer" && slices.Contains(want, "number")) {
			sc.t.Errorf("%s: %s, want %v", where, got, want)
			return
		}
	}
	if c, ok := m["const"]; ok && v != c {
		sc.t.Errorf("%s: %v, want const %v", where, v, c)
	}
	if enum, ok := m["enum"].([]any); ok && !slices.Contains(enum, v) {
		sc.t.Errorf("%s: %v, not in enum %v", where, v, enum)
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := m["properties"].(map[string]any)
		for _, r := range asSlice(m["required"]) {
			if _, ok := v[r.(string)]; !ok {
				sc.t.Errorf("%s: required member %v missing", where, r)
			}
		}
		for k, e := range v {
			switch ps, ok := props[k]; {
			case ok:
				sc.check(ps, e, where+"."+k)
			case m["additionalProperties"] == false:
				sc.t.Errorf("%s: member %s is not documented", where, k)
			default:
				if ap, ok := m["additionalProperties"].(map[string]any); ok {
					sc.check(ap, e, where+"."+k)
				}
			}
		}
	case []any:
		if items, ok := m["items"]; ok {
			for i, e := range v {
				sc.check(items, e, fmt.Sprintf("%s[%d]", where, i))
			}
		}
	}
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

// answer sends method path with body (none when "") and the admin key,
// checks the status, and checks the answer against the document.
func (sc shapeChecker) answer(base, method, path, docPath, body string, status int) map[string]any {
	sc.t.Helper()
	req, err := http.NewRequest(method, base+Prefix+path, strings.NewReader(body))
	if err != nil {
		sc.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	r := doReq(sc.t, req)
	if r.status != status {
		sc.t.Fatalf("%s %s = %d %s, want %d", method, path, r.status, r.body, status)
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		sc.t.Fatalf("%s %s: %v", method, path, err)
	}
	sc.check(sc.schemaOf(strings.ToLower(method), docPath, fmt.Sprint(status)), v, method+" "+path)
	m, _ := v.(map[string]any)
	return m
}

func TestOpenAPIShapesMatchAnswers(t *testing.T) {
	_, raw := loadOpenAPI(t)
	sc := shapeChecker{t: t, doc: raw}
	db := sqliteStore(t)
	if err := db.InsertLogs(context.Background(), fixtureRecords()); err != nil {
		t.Fatalf("InsertLogs: %v", err)
	}
	opened := time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)
	base, _ := serve(t, db, Options{AdminKey: testKey, Store: db, Vault: newTestVault(t), Cache: nopPurger{},
		ProviderNames: func() []string { return []string{"openai"} },
		Health: func() []ProviderHealth {
			return []ProviderHealth{{Name: "openai", Type: "openai", Targets: []TargetHealth{{Model: "m", State: "open", OpenedAt: &opened}}}}
		}})

	logs := sc.answer(base, "GET", "/logs?limit=2", "/logs", "", 200)
	id := logs["data"].([]any)[0].(map[string]any)["id"].(string)
	sc.answer(base, "GET", "/logs/"+id, "/logs/{id}", "", 200)
	sc.answer(base, "GET", "/usage?from=2026-01-01T00:00:00Z&bucket=24h&group_by=model", "/usage", "", 200)
	sc.answer(base, "GET", "/providers", "/providers", "", 200)

	tenant := sc.answer(base, "POST", "/tenants", "/tenants", `{"name":"acme","budget_usd":"5","budget_period":"monthly"}`, 201)
	tid := tenant["id"].(string)
	sc.answer(base, "PATCH", "/tenants/"+tid, "/tenants/{id}", `{"metadata":{"a":"b"}}`, 200)
	sc.answer(base, "GET", "/tenants", "/tenants", "", 200)
	team := sc.answer(base, "POST", "/teams", "/teams", `{"tenant_id":"`+tid+`","name":"t1","rpm":5}`, 201)
	sc.answer(base, "GET", "/teams/"+team["id"].(string), "/teams/{id}", "", 200)
	sc.answer(base, "GET", "/teams", "/teams", "", 200)
	key := sc.answer(base, "POST", "/keys", "/keys", `{"name":"k","team_id":"`+team["id"].(string)+`","budget_usd":1.5,"expires_at":"2027-01-01T00:00:00Z"}`, 201)
	kid := key["id"].(string)
	sc.answer(base, "POST", "/keys/"+kid+"/rotate", "/keys/{id}/rotate", `{"grace_seconds":60}`, 200)
	sc.answer(base, "PATCH", "/keys/"+kid, "/keys/{id}", `{"disabled":true}`, 200)
	sc.answer(base, "GET", "/keys?include_disabled=true", "/keys", "", 200)
	sc.answer(base, "GET", "/budgets?scope=key&id="+kid, "/budgets", "", 200)
	sc.answer(base, "GET", "/budgets?scope=tenant&id="+tid, "/budgets", "", 200)
	cred := sc.answer(base, "POST", "/credentials", "/credentials", `{"provider":"openai","name":"c","key":"sk-0123456789abcdef"}`, 201)
	if _, ok := cred["key"]; ok {
		t.Error("POST /credentials answer holds the key")
	}
	sc.answer(base, "PATCH", "/credentials/"+cred["id"].(string), "/credentials/{id}", `{"weight":3}`, 200)
	sc.answer(base, "GET", "/credentials", "/credentials", "", 200)
	sc.answer(base, "GET", "/audit", "/audit", "", 200)
	sc.answer(base, "GET", "/events", "/events", "", 200)
	sc.answer(base, "DELETE", "/cache?model=m", "/cache", "", 200)

	// Errors have the documented shape too.
	sc.answer(base, "GET", "/keys?role=nope", "/keys", "", 400)
	sc.answer(base, "GET", "/keys/key_missing", "/keys/{id}", "", 404)
	sc.answer(base, "DELETE", "/tenants/"+tid, "/tenants/{id}", "", 409)
	sc.answer(base, "DELETE", "/cache/"+strings.Repeat("0", 64), "/cache/{id}", "", 404)
}
