package admin

import (
	_ "embed" // openapi.json
	"net/http"

	"github.com/sluicehq/sluice/internal/auth"
)

// openAPI is the OpenAPI 3.1 document of the admin API. openapi_test.go
// holds it to the routes registered: every path and method, no more.
//
//go:embed openapi.json
var openAPI []byte

// serveOpenAPI serves GET /admin/v1/openapi.json: the document, as
// embedded. It is authenticated like every admin path (ServeHTTP does
// that before routing), and any role may read it: it describes the API,
// holds no data, and an anonymous client should learn no more about
// which paths exist than from any other admin path (a 401).
func (s *server) serveOpenAPI(_ http.ResponseWriter, _ *http.Request, c *call) error {
	if err := need(&c.p, auth.ReadLogs); err != nil {
		return err
	}
	c.reply(http.StatusOK, openAPI)
	return nil
}
