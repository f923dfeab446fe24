package admin

import (
	"context"
	"net/http"
	"net/url"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/telemetry"
)

// maxScopedSubjects bounds the subjects a scoped caller's event query
// lists: the store's cap on EventFilter.Subjects.
const maxScopedSubjects = 10_000

// handleEvents serves GET /admin/v1/events: one page of alert events,
// newest first, in the /logs list envelope. Owners, and admins and
// viewers whose key names no tenant, see every event. A member sees the
// events of its team's keys and of "team:<its team>"; a tenant's admin
// or viewer those of its tenant's keys and teams and of
// "tenant:<its tenant>". Events about addresses and provider credentials
// are installation-wide, so only unscoped callers see them.
func (s *server) handleEvents(_ http.ResponseWriter, r *http.Request, c *call) error {
	if err := needRead(&c.p); err != nil {
		return err
	}
	f, perr := parseEventsQuery(r.URL.Query())
	if perr != nil {
		return perr
	}
	if c.scope.byTeam || c.scope.byTenant {
		subs, err := s.scopeSubjects(r.Context(), c.scope)
		if err != nil {
			return err
		}
		f.Subjects = subs
	}
	events, next, err := s.db.ListEvents(r.Context(), f)
	if err != nil {
		return storeError(err, "event", "")
	}
	buf := append(make([]byte, 0, 256+len(events)*256), `{"object":"list","data":[`...)
	for i := range events {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendEvent(buf, &events[i])
	}
	c.reply(http.StatusOK, appendListEnd(buf, next))
	return nil
}

// scopeSubjects lists the event subjects a scoped caller may see: its
// team's (or tenant's) keys, revoked ones included, its team, or its
// tenant and the tenant's teams.
func (s *server) scopeSubjects(ctx context.Context, sc scope) ([]string, error) {
	var subs []string
	kf := store.KeyFilter{IncludeDisabled: true, Limit: maxLimit}
	if sc.byTeam {
		kf.TeamID = sc.team
		subs = append(subs, "team:"+sc.team)
	}
	if sc.byTenant {
		kf.TenantID = sc.tenant
	}
	if sc.byTenant && !sc.byTeam {
		subs = append(subs, "tenant:"+sc.tenant)
		teams, err := s.db.ListTeams(ctx, sc.tenant)
		if err != nil {
			return nil, storeError(err, "team", "")
		}
		for _, t := range teams {
			subs = append(subs, "team:"+t.ID)
		}
	}
	for {
		keys, next, err := s.db.ListKeys(ctx, kf)
		if err != nil {
			return nil, storeError(err, "key", "")
		}
		for i := range keys {
			subs = append(subs, "key:"+keys[i].ID)
		}
		if len(subs) > maxScopedSubjects {
			return nil, forbidden("", "this key's scope holds more than %d keys and teams; "+
				"filter by subject, or ask an unscoped admin", maxScopedSubjects)
		}
		if next == "" {
			return subs, nil
		}
		kf.Cursor = next
	}
}

// parseEventsQuery reads GET /events parameters, under the rules of
// eachParam.
func parseEventsQuery(q url.Values) (store.EventFilter, *llm.Error) {
	var f store.EventFilter
	err := parsePage(q, &f.From, &f.To, &f.Limit, &f.Cursor, map[string]*string{"kind": &f.Kind, "subject": &f.Subject})
	return f, err
}

// appendEvent appends e as the API's event object.
func appendEvent(dst []byte, e *store.Event) []byte {
	dst = append(dst, '{')
	dst = appendInt(dst, "id", e.ID)
	dst = jsonw.AppendKey(dst, "time")
	dst = telemetry.AppendTime(dst, e.Time)
	dst = appendStr(dst, "kind", e.Kind)
	dst = appendStr(dst, "severity", e.Severity)
	dst = appendStr(dst, "subject", e.Subject)
	dst = appendStr(dst, "message", e.Message)
	dst = jsonw.AppendKey(dst, "detail")
	dst = appendStringMap(dst, e.Detail)
	return append(dst, '}')
}
