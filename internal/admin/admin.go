package admin

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/store"
)

// Prefix is the path the admin API serves under; mount New's handler at
// Prefix + "/" (it matches full paths, so no http.StripPrefix).
const Prefix = "/admin/v1"

// Options configure the admin API.
type Options struct {
	// Logs is where records and usage are read from. Required.
	Logs store.Logs
	// AdminKey is the bootstrap admin token, presented as
	// "Authorization: Bearer <AdminKey>". Empty disables the API: every
	// request gets 401 saying SLUICE_ADMIN_KEY is not set.
	AdminKey string
	// Logger receives store failures (the cause of every 500) and refused
	// authentications, never a presented token. Nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock for default time ranges. Nil means time.Now.
	Now func() time.Time
}

// server is the admin API's http.Handler.
type server struct {
	logs store.Logs
	auth authenticator
	log  *slog.Logger
	now  func() time.Time
	mux  *http.ServeMux
}

var _ http.Handler = (*server)(nil)

// New returns the admin API handler. It serves only paths under Prefix
// (anything else is a 404 JSON error); the caller mounts it at Prefix+"/".
// Every request is authenticated before it is routed, so an unauthenticated
// client learns nothing about which paths exist.
func New(opts Options) (http.Handler, error) {
	if opts.Logs == nil {
		return nil, errors.New("admin: Options.Logs is nil")
	}
	s := &server{
		logs: opts.Logs,
		auth: newAuthenticator(opts.AdminKey),
		log:  opts.Logger,
		now:  opts.Now,
		mux:  http.NewServeMux(),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.mux.Handle(Prefix+"/logs", s.get(s.handleLogs))
	s.mux.Handle(Prefix+"/logs/{id...}", s.get(s.handleLog))
	s.mux.Handle(Prefix+"/usage", s.get(s.handleUsage))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, notFound(r))
	})
	return s, nil
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, err := s.auth.authenticate(r); err != nil {
		s.log.WarnContext(r.Context(), "admin: request refused",
			"method", r.Method, "path", r.URL.Path, "remote_addr", r.RemoteAddr, "reason", err.Err)
		w.Header().Set("WWW-Authenticate", `Bearer realm="sluice-admin"`)
		s.writeError(w, r, err)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// handlerFunc is an admin endpoint: it writes a success itself or returns
// the error that writeError turns into the response.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// get serves h for GET and HEAD; other methods get a JSON 405 with Allow.
func (s *server) get(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			s.writeError(w, r, &llm.Error{Status: http.StatusMethodNotAllowed,
				Type: llm.TypeInvalidRequest, Code: "method_not_allowed", Fault: llm.FaultCaller,
				Message: fmt.Sprintf("method %s is not allowed on %s", r.Method, r.URL.Path)})
			return
		}
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

func notFound(r *http.Request) *llm.Error {
	return &llm.Error{Status: http.StatusNotFound, Type: llm.TypeNotFound, Code: "not_found",
		Fault: llm.FaultCaller, Message: fmt.Sprintf("no admin endpoint at %s", r.URL.Path)}
}
