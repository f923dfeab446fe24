package admin

import (
	"context"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/telemetry"
)

// This file writes and serves the audit log. Every successful write is
// recorded, and so is every write refused for authentication (401) or
// authorisation (403, or a 404 hiding an object out of the caller's
// scope): who (actor, actor_key_id, client_ip), what (action, target),
// when, and detail — the names of the fields a write set, or the refusal's
// status; never a secret or a field's value.

// auditTimeout bounds an audit write, which outlives a client that left.
const auditTimeout = 5 * time.Second

// audit records a successful write by p. A failure to record is logged:
// the write itself has happened and its answer stands.
func (s *server) audit(r *http.Request, p *auth.Principal, action, target string, detail map[string]string) {
	d := map[string]string{"result": "ok"}
	maps.Copy(d, detail)
	s.appendAudit(r, p, action, target, d)
}

// auditDenied records a write refused with status; p is nil when the
// caller did not authenticate.
func (s *server) auditDenied(r *http.Request, p *auth.Principal, action, target string, status int) {
	s.appendAudit(r, p, action, target, map[string]string{"result": "denied", "status": strconv.Itoa(status)})
}

func (s *server) appendAudit(r *http.Request, p *auth.Principal, action, target string, detail map[string]string) {
	if s.db == nil {
		return
	}
	e := store.AuditEntry{Time: s.now().UTC(), Action: action, Target: target,
		ClientIP: clientIP(r), Detail: detail}
	if p != nil {
		e.Actor, e.ActorKeyID = p.Name, p.KeyID
		if e.Actor == "" {
			e.Actor = p.KeyID
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), auditTimeout)
	defer cancel()
	if err := s.db.AppendAudit(ctx, []store.AuditEntry{e}); err != nil {
		s.log.ErrorContext(r.Context(), "admin: audit write failed",
			"action", action, "target", target, "err", err)
	}
}

// clientIP is the connection's address: forwarding headers are not
// trusted, as for the request log.
func clientIP(r *http.Request) string {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap().String()
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// handleAudit serves GET /admin/v1/audit: one page of entries, newest
// first, in the /logs list envelope.
func (s *server) handleAudit(_ http.ResponseWriter, r *http.Request, c *call) error {
	if err := need(&c.p, auth.ReadAudit); err != nil {
		return err
	}
	if c.scope.byTenant {
		// The trail is installation-wide: entries carry no tenant.
		return forbidden("", "the audit log is installation-wide; a tenant's key may not read it")
	}
	f, perr := parseAuditQuery(r.URL.Query())
	if perr != nil {
		return perr
	}
	entries, next, err := s.db.QueryAudit(r.Context(), f)
	if err != nil {
		return storeError(err, "audit entry", "")
	}
	buf := append(make([]byte, 0, 256+len(entries)*256), `{"object":"list","data":[`...)
	for i := range entries {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendAuditEntry(buf, &entries[i])
	}
	c.reply(http.StatusOK, appendListEnd(buf, next))
	return nil
}

// parseAuditQuery reads GET /audit parameters, under the rules of
// eachParam.
func parseAuditQuery(q url.Values) (store.AuditFilter, *llm.Error) {
	var f store.AuditFilter
	err := parsePage(q, &f.From, &f.To, &f.Limit, &f.Cursor,
		map[string]*string{"actor": &f.Actor, "action": &f.Action, "target": &f.Target})
	return f, err
}

// parsePage reads the parameters of a newest-first list (the audit log,
// events): from and to (a checked range), limit, cursor, and the
// equality filters in eq, each a parameter name and where its value
// goes. Anything else is refused (eachParam's rules).
func parsePage(q url.Values, from, to *time.Time, limit *int, cursor *string, eq map[string]*string) *llm.Error {
	err := eachParam(q, func(name, v string) *llm.Error {
		switch name {
		case "from", "to":
			return rangeParam(from, to, name, v)
		case "limit":
			n, err := limitParam(name, v)
			*limit = n
			return err
		case "cursor":
			*cursor = v
		default:
			dst, ok := eq[name]
			if !ok {
				return unknownParam(name, v)
			}
			*dst = v
		}
		return nil
	})
	if err == nil {
		err = checkRange(*from, *to)
	}
	return err
}

// appendAuditEntry appends e as the API's audit entry object.
func appendAuditEntry(dst []byte, e *store.AuditEntry) []byte {
	dst = append(dst, '{')
	dst = appendInt(dst, "id", e.ID)
	dst = jsonw.AppendKey(dst, "time")
	dst = telemetry.AppendTime(dst, e.Time)
	dst = appendStr(dst, "actor", e.Actor)
	dst = appendStr(dst, "actor_key_id", e.ActorKeyID)
	dst = appendStr(dst, "action", e.Action)
	dst = appendStr(dst, "target", e.Target)
	dst = appendStr(dst, "client_ip", e.ClientIP)
	dst = jsonw.AppendKey(dst, "detail")
	dst = appendStringMap(dst, e.Detail)
	return append(dst, '}')
}

// appendStringMap appends m as a JSON object, keys in byte order; nil is {}.
func appendStringMap(dst []byte, m map[string]string) []byte {
	dst = append(dst, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonw.AppendString(dst, k)
		dst = append(dst, ':')
		dst = jsonw.AppendString(dst, m[k])
	}
	return append(dst, '}')
}

// appendListEnd closes a list envelope's data array and appends its
// paging members: next_cursor (null after the last page) and has_more.
func appendListEnd(buf []byte, next string) []byte {
	buf = append(buf, ']')
	buf = jsonw.AppendKey(buf, "next_cursor")
	buf = jsonw.AppendStringOrNull(buf, next)
	buf = jsonw.AppendKey(buf, "has_more")
	buf = jsonw.AppendBool(buf, next != "")
	return append(buf, '}')
}
