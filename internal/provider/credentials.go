package provider

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/llm"
)

// Credentials hands an adapter the upstream key for each request, in place
// of Config.APIKey: the gateway's vault of provider keys, several per
// provider. Implementations are safe for concurrent use; Pick and Rejected
// must not block (they run on the request path) and Pick should not
// allocate.
type Credentials interface {
	// Pick returns the credential for one upstream request, or nil when
	// there is none to use: the adapter then sends Config.APIKey.
	Pick() *Credential
	// Rejected tells the source that the upstream refused the key c
	// itself, answering status (a 401, or a 403 or 400 whose error says
	// the key is invalid or revoked: llm.Error.KeyRefused): it should not
	// be picked again. A 403 for a model, region or scope the key may not
	// use is not reported. c may be a credential the source has since
	// replaced.
	Rejected(c *Credential, status int)
}

// Credential is one upstream API key. It is immutable; adapters send the
// header values it returns as they are (shared slices: never modify
// them). Formatting it (fmt, slog) shows its ID, never the key.
type Credential struct {
	id     string
	key    string
	bearer []string // {"Bearer " + key}
	plain  []string // {key}
}

// NewCredential returns the credential id (a name for logs and reports,
// never secret) for key. key must be a valid header value (no control
// characters); the caller checks it.
func NewCredential(id, key string) *Credential {
	return &Credential{id: id, key: key,
		bearer: []string{"Bearer " + key}[:1:1], plain: []string{key}[:1:1]}
}

// ID returns the credential's ID.
func (c *Credential) ID() string { return c.id }

// Key returns the secret.
func (c *Credential) Key() string { return c.key }

// BearerHeader is the value of "Authorization: Bearer <key>".
func (c *Credential) BearerHeader() []string { return c.bearer }

// KeyHeader is the value of a header holding the key alone (x-api-key,
// api-key, x-goog-api-key).
func (c *Credential) KeyHeader() []string { return c.plain }

// String returns "credential <id>".
func (c *Credential) String() string { return "credential " + c.id }

// GoString is String, so %#v does not show the key either.
func (c *Credential) GoString() string { return c.String() }

// LogValue logs the ID only.
func (c *Credential) LogValue() slog.Value { return slog.StringValue(c.id) }

// Pick returns a credential from creds, or nil when creds is nil or has
// none to give.
func Pick(creds Credentials) *Credential {
	if creds == nil {
		return nil
	}
	return creds.Pick()
}

// SendWith is Send for a request carrying c, picked from creds (either
// may be nil: then it is Send). An upstream answer that refuses the key
// (a 401, or whatever decode makes a key refusal: llm.Error.KeyRefused)
// is reported to creds.Rejected before the error is returned, and should
// the upstream's error message quote the key, the key is masked.
func SendWith(client *http.Client, req *http.Request, provider string, decode ErrorDecoder,
	creds Credentials, c *Credential) (*http.Response, error) {
	if c == nil || creds == nil {
		return Send(client, req, provider, decode)
	}
	return Send(client, req, provider, func(name string, status int, h http.Header, body []byte) *llm.Error {
		return rejected(creds, c, decode, name, status, h, body)
	})
}

// OpenStreamWith is OpenStream for a request carrying c, picked from
// creds, reporting and masking as SendWith does. build must put c on the
// request.
func OpenStreamWith(ctx context.Context, client *http.Client, provider string, timeout time.Duration,
	build func(ctx context.Context) (*http.Request, error), decode ErrorDecoder, dec EventDecoder,
	creds Credentials, c *Credential) (llm.Stream, error) {
	if c == nil || creds == nil {
		return OpenStream(ctx, client, provider, timeout, build, decode, dec)
	}
	return OpenStream(ctx, client, provider, timeout, build,
		func(name string, status int, h http.Header, body []byte) *llm.Error {
			return rejected(creds, c, decode, name, status, h, body)
		}, dec)
}

// rejected decodes the answer, reports a refusal of the key to creds (a
// 401, or an answer decoded as one, such as Gemini's 400 API_KEY_INVALID;
// never a permission 403) and masks c's key should the upstream quote it.
func rejected(creds Credentials, c *Credential, decode ErrorDecoder, name string, status int, h http.Header, body []byte) *llm.Error {
	e := decode(name, status, h, body)
	if status == http.StatusUnauthorized || e.KeyRefused() {
		creds.Rejected(c, status)
	}
	if c.key == "" {
		return e
	}
	if strings.Contains(e.Message, c.key) {
		e.Message = strings.ReplaceAll(e.Message, c.key, "[redacted]")
	}
	if e.Err != nil && strings.Contains(e.Err.Error(), c.key) {
		e.Err = errors.New(strings.ReplaceAll(e.Err.Error(), c.key, "[redacted]"))
	}
	return e
}
