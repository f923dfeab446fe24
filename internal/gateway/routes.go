package gateway

import (
	"net/http"
)

// routes returns the HTTP surface with the transport middleware around it.
// The middleware order is written here and nowhere else (outermost first):
//
//	requestID — keeps or makes x-request-id and returns it
//	observe   — the access log line; for LLM routes the request record,
//	            metrics and trace span
//	recoverer — a panic becomes a 500 JSON error (logged with the request
//	            id, and in the access log); the process lives
//	limitBody — max_body_bytes; larger bodies get 413
func (g *Gateway) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/chat/completions", g.authenticate(allow(http.MethodPost, g.handleChat)))
	mux.Handle("/v1/messages", g.authenticate(allow(http.MethodPost, g.handleMessages)))
	mux.Handle("/v1/embeddings", g.authenticate(allow(http.MethodPost, g.handleEmbeddings)))
	mux.Handle("/v1/models", g.authenticate(allow(http.MethodGet, g.handleModels)))
	mux.Handle("/v1/models/{id...}", g.authenticate(allow(http.MethodGet, g.handleModel)))
	mux.Handle("/healthz", allow(http.MethodGet, g.handleHealth))
	mux.Handle("/readyz", allow(http.MethodGet, g.handleReady))
	if g.metrics != nil {
		mux.Handle("/metrics", allow(http.MethodGet, g.metrics.Handler().ServeHTTP))
	}
	if g.admin != nil {
		mux.Handle("/admin/v1/", g.admin)
	}
	mux.Handle("/{provider}/{rest...}", g.authenticate(http.HandlerFunc(g.handlePassthrough)))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, formatOpenAI, notFound(r))
	})
	g.mux = mux
	var h http.Handler = mux
	h = limitBody(g.cfg.Server.MaxBodyBytes, h)
	h = g.recoverer(h)
	h = g.observe(h)
	h = requestID(h)
	return h
}

// allow serves only the given method; others get a JSON 405 with Allow.
func allow(method string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
			w.Header().Set("Allow", method)
			writeError(w, r, formatFor(r), methodNotAllowed(r))
			return
		}
		h(w, r)
	})
}

func (g *Gateway) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, []byte(`{"status":"ok"}`))
}
