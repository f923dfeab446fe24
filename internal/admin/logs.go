package admin

import (
	"net/http"

	"github.com/sluicehq/sluice/internal/telemetry"
)

// handleLogs serves GET /admin/v1/logs: one page of records, newest first,
// without payloads:
//
//	{"object":"list","data":[record…],"next_cursor":"…"|null,"has_more":bool}
//
// next_cursor, passed back as cursor with the same filters, continues after
// the page's last record.
//
// A member's query is held to its team, and a tenant-scoped key's to its
// tenant; asking for another is a 403.
func (s *server) handleLogs(_ http.ResponseWriter, r *http.Request, c *call) error {
	if err := needRead(&c.p); err != nil {
		return err
	}
	f, perr := parseLogsQuery(r.URL.Query())
	if perr != nil {
		return perr
	}
	if perr := c.scope.narrow(&f.TenantID, &f.TeamID); perr != nil {
		return perr
	}
	page, err := s.logs.QueryLogs(r.Context(), f)
	if err != nil {
		return storeError(err, kindLog, "")
	}
	buf := make([]byte, 0, 256+len(page.Records)*768)
	buf = append(buf, `{"object":"list","data":[`...)
	for i := range page.Records {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = telemetry.AppendRecord(buf, &page.Records[i], false)
	}
	c.reply(http.StatusOK, appendListEnd(buf, page.Next))
	return nil
}

// handleLog serves GET /admin/v1/logs/{id}: one record with its payloads
// when they were logged; 404 not_found when there is no such record, or
// when it lies outside the caller's scope (another team's, for a member).
func (s *server) handleLog(_ http.ResponseWriter, r *http.Request, c *call) error {
	if err := needRead(&c.p); err != nil {
		return err
	}
	id := r.PathValue("id")
	if id == "" {
		return notFound(r)
	}
	if perr := eachParam(r.URL.Query(), unknownParam); perr != nil {
		return perr
	}
	rec, err := s.logs.GetLog(r.Context(), id)
	if err != nil {
		return storeError(err, kindLog, "")
	}
	if !c.scope.allowsRecord(&rec) {
		return hidden(kindLog)
	}
	c.reply(http.StatusOK, telemetry.AppendRecord(make([]byte, 0, 1024+len(rec.RequestBody)*3+len(rec.ResponseBody)*3), &rec, true))
	return nil
}
