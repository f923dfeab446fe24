package anthropic

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

	codec "github.com/sluicehq/sluice/internal/codec/anthropic"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
)

// DefaultVersion is the anthropic-version header sent when the config sets
// none.
const DefaultVersion = "2023-06-01"

// maxResponseBytes bounds a whole (non-streamed) answer.
const maxResponseBytes = 32 << 20

// Provider is an Anthropic Messages API upstream. It is safe for
// concurrent use.
type Provider struct {
	name   string
	base   *url.URL // API root, without the /v1 segment
	msgURL string   // {base}/v1/messages
	key    string   // x-api-key; empty sends none
	// creds, when not nil, gives the key of each request in place of key.
	creds   provider.Credentials
	version string      // anthropic-version
	headers http.Header // static headers, applied last
	client  *http.Client
	timeout time.Duration // bound on one call; zero for none
	models  []string      // advertised in addition to the upstream's list
	encode  codec.EncodeOptions
}

var (
	_ provider.Provider    = (*Provider)(nil)
	_ provider.ModelLister = (*Provider)(nil)
	_ provider.Passthrough = (*Provider)(nil)
)

// New returns an Anthropic provider for cfg. An empty Name is "anthropic";
// an empty BaseURL is Anthropic's (a trailing "/v1" is tolerated and
// removed); an empty APIVersion is DefaultVersion; a nil Client is
// provider.NewHTTPClient(). It fails for a base URL that is not an absolute
// http(s) URL and for header names that are not valid.
func New(cfg provider.Config) (provider.Provider, error) {
	p := &Provider{name: cfg.Name, key: cfg.APIKey, creds: cfg.Credentials, version: cfg.APIVersion, client: cfg.Client,
		timeout: cfg.Timeout, models: cfg.Models}
	if p.name == "" {
		p.name = provider.WireAnthropic
	}
	base := cfg.BaseURL
	if base == "" {
		k, _ := provider.LookupKind(provider.WireAnthropic)
		base = k.BaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("anthropic: provider %q: base_url %q: must be an absolute http(s) URL", p.name, base)
	}
	u.Path = strings.TrimSuffix(strings.TrimRight(u.Path, "/"), "/v1")
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	p.base = u
	p.msgURL = provider.JoinURL(u, "v1/messages", "").String()
	if p.version == "" {
		p.version = DefaultVersion
	}
	if p.client == nil {
		p.client = provider.NewHTTPClient()
	}
	p.headers = make(http.Header, len(cfg.Headers))
	for k, v := range cfg.Headers {
		if !validHeaderName(k) {
			return nil, fmt.Errorf("anthropic: provider %q: header %q: not a valid header name", p.name, k)
		}
		p.headers.Set(k, v)
	}
	p.encode = codec.EncodeOptions{Provider: p.name}
	return p, nil
}

// validHeaderName reports whether s is an HTTP token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// Name returns the provider's configured name.
func (p *Provider) Name() string { return p.name }

// Chat sends req and returns the whole answer.
func (p *Provider) Chat(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	r := *req // the router may resend req: change a copy
	r.Stream, r.IncludeUsage = false, false
	body, err := codec.EncodeMessagesRequest(&r, p.encode)
	if err == nil {
		body, err = provider.PatchBody(body, req.Patch)
	}
	if err != nil {
		return nil, p.own(err)
	}
	ctx, cancel := p.withTimeout(ctx)
	defer cancel()
	cred := provider.Pick(p.creds)
	resp, err := provider.SendWith(p.client, p.chatRequest(ctx, req, body, "application/json", cred), p.name,
		codec.DecodeError, p.creds, cred)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := p.readAll(ctx, resp.Body)
	if err != nil {
		return nil, err
	}
	out, err := codec.DecodeMessagesResponse(data)
	if err != nil {
		return nil, p.own(err)
	}
	return out, nil
}

// ChatStream sends req as a streamed request. The returned stream's Close
// cancels the upstream request.
func (p *Provider) ChatStream(ctx context.Context, req *llm.Request) (llm.Stream, error) {
	r := *req
	r.Stream = true
	body, err := codec.EncodeMessagesRequest(&r, p.encode)
	if err == nil {
		body, err = provider.PatchBody(body, req.Patch)
	}
	if err != nil {
		return nil, p.own(err)
	}
	cred := provider.Pick(p.creds)
	build := func(ctx context.Context) (*http.Request, error) {
		return p.chatRequest(ctx, req, body, "text/event-stream", cred), nil
	}
	return provider.OpenStreamWith(ctx, p.client, p.name, p.timeout, build, codec.DecodeError,
		codec.NewStreamDecoder(p.name), p.creds, cred)
}

func (p *Provider) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if p.timeout > 0 {
		return context.WithTimeout(ctx, p.timeout)
	}
	return context.WithCancel(ctx)
}

// chatRequest builds the upstream request for a chat. An Anthropic client's
// anthropic-beta header goes along: the features it switches on (extended
// context, new tools) change what the request means.
func (p *Provider) chatRequest(ctx context.Context, req *llm.Request, body []byte, accept string, cred *provider.Credential) *http.Request {
	hr := p.newRequest(ctx, http.MethodPost, p.msgURL, body, accept, cred)
	if req.Format == codec.Format {
		if beta := req.Headers["anthropic-beta"]; beta != "" {
			hr.Header.Set("Anthropic-Beta", beta)
		}
	}
	return hr
}

// newRequest builds an upstream request with the provider's headers and
// cred's key (nil: the configured key).
func (p *Provider) newRequest(ctx context.Context, method, u string, body []byte, accept string, cred *provider.Credential) *http.Request {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		panic(fmt.Sprintf("anthropic: building a request for a URL validated by New: %v", err))
	}
	h := req.Header
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Accept", accept)
	p.setAuth(h)
	setCredential(h, cred)
	return req
}

// setCredential puts a vault credential's key on h in place of the
// configured one; nil leaves h as it is.
func setCredential(h http.Header, cred *provider.Credential) {
	if cred != nil {
		h["X-Api-Key"] = cred.KeyHeader()
	}
}

// setAuth sets the key, the version (unless set already) and the static
// headers.
func (p *Provider) setAuth(h http.Header) {
	if p.key != "" {
		h.Set("X-Api-Key", p.key)
	}
	if h.Get("Anthropic-Version") == "" {
		h.Set("Anthropic-Version", p.version)
	}
	for k, v := range p.headers {
		h[k] = v
	}
}

// readAll reads a whole answer, bounded by maxResponseBytes.
func (p *Provider) readAll(ctx context.Context, body io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(body, maxResponseBytes+1))
	if err != nil {
		return nil, provider.TransportError(ctx, p.name, err)
	}
	if len(data) > maxResponseBytes {
		return nil, &llm.Error{Status: http.StatusBadGateway, Type: llm.TypeAPI, Code: "upstream_response_too_large",
			Message:  fmt.Sprintf("provider %q sent a response larger than the gateway accepts", p.name),
			Provider: p.name, Fault: llm.FaultProvider}
	}
	return data, nil
}

// own sets the provider's name on an error from the codec.
func (p *Provider) own(err error) error {
	var e *llm.Error
	if errors.As(err, &e) && e.Provider == "" {
		e.Provider = p.name
	}
	return err
}
