package mock

import (
	"encoding/json"
	"io"
	"net/http"
)

// maxFaultBody bounds the body of POST /_mock/faults.
const maxFaultBody = 1 << 20

// serveControl answers the control API:
//
//	GET  /_mock/stats   {"requests":N}
//	GET  /_mock/last    the last provider-API request as a Recorded; 404 if none
//	POST /_mock/faults  a Fault; answers with the Fault now pending
//	POST /_mock/reset   Reset; 204
//
// Errors are OpenAI-shaped. Control calls are neither counted nor recorded.
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	x := exchange{s: s, w: w, r: r}
	want := http.MethodGet
	if r.URL.Path == "/_mock/faults" || r.URL.Path == "/_mock/reset" {
		want = http.MethodPost
	}
	switch r.URL.Path {
	case "/_mock/stats", "/_mock/last", "/_mock/faults", "/_mock/reset":
		if r.Method != want {
			w.Header().Set("Allow", want)
			x.fail(http.StatusMethodNotAllowed, "", "", "use "+want+" for "+r.URL.Path)
			return
		}
	default:
		x.fail(http.StatusNotFound, "unknown_url", "", "unknown control endpoint "+r.URL.Path)
		return
	}
	switch r.URL.Path {
	case "/_mock/stats":
		writeValue(w, s.Stats())
	case "/_mock/last":
		rec, ok := s.Last()
		if !ok {
			x.fail(http.StatusNotFound, "no_request", "", "no provider-API request was received yet")
			return
		}
		writeValue(w, rec)
	case "/_mock/faults":
		var f Fault
		body, err := io.ReadAll(io.LimitReader(r.Body, maxFaultBody))
		if err == nil {
			err = json.Unmarshal(body, &f)
		}
		if err != nil {
			x.fail(http.StatusBadRequest, "", "", "invalid fault: "+err.Error())
			return
		}
		if msg := f.validate(); msg != "" {
			x.fail(http.StatusBadRequest, "", "", "invalid fault: "+msg)
			return
		}
		s.InjectFault(f)
		f.Count = max(f.Count, 1)
		writeValue(w, f)
	case "/_mock/reset":
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	}
}

// writeValue writes v as a 200 JSON answer. Control answers are small and
// rare, so encoding/json is fine here.
func writeValue(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil { // cannot happen for the mock's own types
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, b, false)
}
