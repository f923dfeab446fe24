package gemini

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	codec "github.com/sluicehq/sluice/internal/codec/gemini"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
)

// apiKeyHeader carries the API key. The key never goes in the URL, where
// access logs and error messages would keep it.
const apiKeyHeader = "x-goog-api-key"

// maxResponseBytes bounds a whole (non-streamed) answer read into memory;
// image-generating models answer with inline base64, hence the generous
// bound.
const maxResponseBytes = 64 << 20

// Provider talks to the Gemini API. It is safe for concurrent use.
type Provider struct {
	name string
	// base is the API root including the version segment
	// (https://generativelanguage.googleapis.com/v1beta); passthrough uses
	// root, the configured base URL as it is.
	base, root *url.URL
	key        string
	// creds, when not nil, gives the key of each request in place of key.
	creds   provider.Credentials
	headers map[string]string
	client  *http.Client
	timeout time.Duration // zero: none beyond the caller's context
}

var (
	_ provider.Provider    = (*Provider)(nil)
	_ provider.Embedder    = (*Provider)(nil)
	_ provider.ModelLister = (*Provider)(nil)
	_ provider.Passthrough = (*Provider)(nil)
)

// New returns a Gemini provider. cfg.BaseURL defaults to the catalog's
// (https://generativelanguage.googleapis.com) and may end in a version
// segment (/v1beta, /v1); without one, /v1beta is used. An API key is
// required, unless cfg.Credentials gives the keys.
func New(cfg provider.Config) (provider.Provider, error) {
	return newProvider(cfg)
}

func newProvider(cfg provider.Config) (*Provider, error) {
	if cfg.Name == "" {
		return nil, errors.New("gemini: provider name is empty")
	}
	raw := cfg.BaseURL
	if raw == "" {
		k, _ := provider.LookupKind("gemini")
		raw = k.BaseURL
	}
	root, err := url.Parse(raw)
	if err != nil || root.Host == "" || root.Scheme != "http" && root.Scheme != "https" {
		return nil, fmt.Errorf("gemini: provider %q: base URL %q must be an absolute http(s) URL", cfg.Name, raw)
	}
	if root.RawQuery != "" || root.Fragment != "" {
		return nil, fmt.Errorf("gemini: provider %q: base URL %q must not have a query or fragment", cfg.Name, raw)
	}
	if cfg.APIKey == "" && cfg.Credentials == nil {
		return nil, fmt.Errorf("gemini: provider %q: an API key is required", cfg.Name)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("gemini: provider %q: timeout must not be negative", cfg.Name)
	}
	base := root
	switch p := strings.TrimRight(root.Path, "/"); {
	case strings.HasSuffix(p, "/v1beta"), strings.HasSuffix(p, "/v1"), strings.HasSuffix(p, "/v1alpha"):
	default:
		base = provider.JoinURL(root, "v1beta", "")
	}
	client := cfg.Client
	if client == nil {
		client = provider.NewHTTPClient()
	}
	return &Provider{name: cfg.Name, base: base, root: root, key: cfg.APIKey, creds: cfg.Credentials,
		headers: cfg.Headers, client: client, timeout: cfg.Timeout}, nil
}

// Name returns the provider's configured name.
func (p *Provider) Name() string { return p.name }

// withTimeout bounds ctx by the configured timeout; the cancel func must be
// called.
func (p *Provider) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if p.timeout > 0 {
		return context.WithTimeout(ctx, p.timeout)
	}
	return ctx, func() {}
}

// newRequest builds an upstream request to path (relative to the versioned
// base) with the static headers and a key set: cred's, or the configured
// one when cred is nil. body may be nil.
func (p *Provider) newRequest(ctx context.Context, method, path, query string, body []byte, cred *provider.Credential) (*http.Request, error) {
	u := provider.JoinURL(p.base, path, query)
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), r)
	if err != nil {
		return nil, &llm.Error{Status: http.StatusInternalServerError, Type: llm.TypeAPI,
			Message: "internal gateway error", Provider: p.name, Fault: llm.FaultGateway,
			Err: fmt.Errorf("gemini: build request: %w", err)}
	}
	p.setHeaders(req.Header)
	if cred != nil {
		req.Header[http.CanonicalHeaderKey(apiKeyHeader)] = cred.KeyHeader()
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// setHeaders sets the static headers, then the credential (so a static
// header cannot replace it).
func (p *Provider) setHeaders(h http.Header) {
	for k, v := range p.headers {
		h.Set(k, v)
	}
	if p.key != "" {
		h.Set(apiKeyHeader, p.key)
	}
}

// send performs req, which carries cred (nil: the configured key), and
// returns the 2xx response; errors are *llm.Error.
func (p *Provider) send(req *http.Request, cred *provider.Credential) (*http.Response, error) {
	return provider.SendWith(p.client, req, p.name, p.decodeError, p.creds, cred)
}

// decodeError is codec.DecodeError with a last guard: should an upstream
// ever echo the API key in its message, it is masked before the message
// can reach a client or a log.
func (p *Provider) decodeError(name string, status int, h http.Header, body []byte) *llm.Error {
	e := codec.DecodeError(name, status, h, body)
	if p.key != "" && strings.Contains(e.Message, p.key) {
		e.Message = strings.ReplaceAll(e.Message, p.key, "[redacted]")
		e.Err = errors.New("gemini: upstream error message contained the API key (redacted)")
	}
	return e
}

// readAll reads a whole 2xx body, bounded by maxResponseBytes.
// post sends body to path under the configured timeout and returns the
// whole (bounded) answer of a 2xx response.
func (p *Provider) post(ctx context.Context, path string, body []byte) ([]byte, error) {
	ctx, cancel := p.withTimeout(ctx)
	defer cancel()
	cred := provider.Pick(p.creds)
	hr, err := p.newRequest(ctx, http.MethodPost, path, "", body, cred)
	if err != nil {
		return nil, err
	}
	resp, err := p.send(hr, cred)
	if err != nil {
		return nil, err
	}
	return p.readAll(ctx, resp)
}

func (p *Provider) readAll(ctx context.Context, resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, provider.TransportError(ctx, p.name, err)
	}
	if len(b) > maxResponseBytes {
		return nil, &llm.Error{Status: http.StatusBadGateway, Type: llm.TypeAPI, Code: "response_too_large",
			Message: "the provider's response is larger than the gateway accepts", Provider: p.name,
			Fault: llm.FaultProvider}
	}
	return b, nil
}

// own sets the provider name on codec errors, which do not know it.
func (p *Provider) own(err error) error {
	var e *llm.Error
	if errors.As(err, &e) && e.Provider == "" {
		e.Provider = p.name
	}
	return err
}

// modelPath returns "models/{model}:{method}" for a model named with or
// without the "models/" prefix (tuned models keep "tunedModels/"). Model
// IDs are letters, digits, '.', '-' and '_'; any other name (one that could
// change the URL's path, say) is a 400.
func modelPath(model, method string) (string, error) {
	m := model
	if !strings.HasPrefix(m, "models/") && !strings.HasPrefix(m, "tunedModels/") {
		m = "models/" + m
	}
	name := m[strings.IndexByte(m, '/')+1:]
	if !validModelID(name) {
		return "", llm.BadRequest("model", "%q is not a valid Gemini model name", model)
	}
	return m + ":" + method, nil
}

func validModelID(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}
