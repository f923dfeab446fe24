package admin

import (
	"net/http"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/telemetry"
)

// handleLogs serves GET /admin/v1/logs: one page of records, newest first,
// without payloads:
//
//	{"object":"list","data":[record…],"next_cursor":"…"|null,"has_more":bool}
//
// next_cursor, passed back as cursor with the same filters, continues after
// the page's last record.
func (s *server) handleLogs(w http.ResponseWriter, r *http.Request) error {
	f, perr := parseLogsQuery(r.URL.Query())
	if perr != nil {
		return perr
	}
	page, err := s.logs.QueryLogs(r.Context(), f)
	if err != nil {
		return storeError(err)
	}
	buf := make([]byte, 0, 256+len(page.Records)*768)
	buf = append(buf, `{"object":"list","data":[`...)
	for i := range page.Records {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = telemetry.AppendRecord(buf, &page.Records[i], false)
	}
	buf = append(buf, ']')
	buf = jsonw.AppendKey(buf, "next_cursor")
	buf = jsonw.AppendStringOrNull(buf, page.Next)
	buf = jsonw.AppendKey(buf, "has_more")
	buf = jsonw.AppendBool(buf, page.Next != "")
	buf = append(buf, '}')
	writeJSON(w, http.StatusOK, buf)
	return nil
}

// handleLog serves GET /admin/v1/logs/{id}: one record with its payloads
// when they were logged; 404 not_found when there is no such record.
func (s *server) handleLog(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if id == "" {
		return notFound(r)
	}
	if perr := eachParam(r.URL.Query(), unknownParam); perr != nil {
		return perr
	}
	rec, err := s.logs.GetLog(r.Context(), id)
	if err != nil {
		return storeError(err)
	}
	writeJSON(w, http.StatusOK, telemetry.AppendRecord(make([]byte, 0, 1024+len(rec.RequestBody)*3+len(rec.ResponseBody)*3), &rec, true))
	return nil
}
