package openai

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	oaicodec "github.com/sluicehq/sluice/internal/codec/openai"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
)

// Chat sends req as a whole (non-streamed) chat completion. cfg.Timeout
// bounds the whole call.
func (p *Provider) Chat(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	if req.Stream {
		r := *req // never modify the caller's request
		r.Stream, r.IncludeUsage = false, false
		req = &r
	}
	body, err := oaicodec.EncodeChatRequest(req, p.encode)
	if err == nil {
		body, err = provider.PatchBody(body, req.Patch)
	}
	if err != nil {
		return nil, err
	}
	u, err := p.endpoint(p.chatURL, req.Model, "chat/completions")
	if err != nil {
		return nil, err
	}
	buf := provider.GetBuffer() // the answer is decoded into values of its own
	defer provider.PutBuffer(buf)
	if err := p.callInto(ctx, http.MethodPost, u, body, buf); err != nil {
		return nil, err
	}
	resp, err := oaicodec.DecodeChatResponse(buf.B)
	if err != nil {
		return nil, p.own(err)
	}
	return resp, nil
}

// ChatStream starts a streamed chat completion, always asking for the usage
// chunk. It returns once the upstream answered 2xx; errors before that
// (including a non-2xx answer) are returned here. cfg.Timeout bounds the
// wait for the answer and then every silence between reads of the stream
// (a 504 "upstream_timeout"), never the length of a healthy stream.
// Cancelling ctx aborts the upstream request; closing the stream releases it.
func (p *Provider) ChatStream(ctx context.Context, req *llm.Request) (llm.Stream, error) {
	r := *req
	r.Stream = true
	opt := p.encode
	opt.IncludeUsage = true
	body, err := oaicodec.EncodeChatRequest(&r, opt)
	if err == nil {
		body, err = provider.PatchBody(body, req.Patch)
	}
	if err != nil {
		return nil, err
	}
	u, err := p.endpoint(p.chatURL, req.Model, "chat/completions")
	if err != nil {
		return nil, err
	}
	cred := provider.Pick(p.creds)
	build := func(ctx context.Context) (*http.Request, error) {
		hr := p.newRequest(ctx, http.MethodPost, u, body, true)
		p.setCredential(hr.Header, cred)
		return hr, nil
	}
	return provider.OpenStreamWith(ctx, p.client, p.name, p.timeout, build, oaicodec.DecodeError,
		oaicodec.NewStreamDecoder(p.name), p.creds, cred)
}

// endpoint returns the URL of an operation: the precomputed one, or for
// Azure the deployment's.
func (p *Provider) endpoint(fixed *url.URL, model, op string) (*url.URL, error) {
	if p.azure {
		return p.azureURL(model, op)
	}
	return fixed, nil
}

// newRequest builds an upstream request carrying the provider's credential
// and static headers, and nothing of the client's.
func (p *Provider) newRequest(ctx context.Context, method string, u *url.URL, body []byte, stream bool) *http.Request {
	h := make(http.Header, len(p.header)+2)
	for k, v := range p.header {
		h[k] = v[:len(v):len(v)] // shared: Set replaces and Add copies it
	}
	if body != nil {
		h["Content-Type"] = jsonValue
	}
	if stream {
		h["Accept"] = eventStreamValue
	} else {
		h["Accept"] = jsonValue
	}
	return provider.NewRequest(ctx, method, u, h, body)
}

// Header values shared by every request (capped: an Add copies them).
var (
	jsonValue        = []string{"application/json"}[:1:1]
	eventStreamValue = []string{"text/event-stream"}[:1:1]
)

// setCredential puts a vault credential on h in place of the configured
// key; nil leaves h as it is. The header value is the credential's own,
// shared, slice.
func (p *Provider) setCredential(h http.Header, cred *provider.Credential) {
	if cred == nil {
		return
	}
	if p.azure {
		h["Api-Key"] = cred.KeyHeader()
	} else {
		h["Authorization"] = cred.BearerHeader()
	}
}

// call performs a request with a JSON answer and returns its body. The
// timeout bounds the whole call, reading the body included.
func (p *Provider) call(ctx context.Context, method string, u *url.URL, body []byte) ([]byte, error) {
	var buf provider.Buffer
	if err := p.callInto(ctx, method, u, body, &buf); err != nil {
		return nil, err
	}
	return buf.B, nil
}

// callInto is call reading the answer into buf.
func (p *Provider) callInto(ctx context.Context, method string, u *url.URL, body []byte, buf *provider.Buffer) error {
	if p.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}
	cred := provider.Pick(p.creds)
	req := p.newRequest(ctx, method, u, body, false)
	p.setCredential(req.Header, cred)
	resp, err := provider.SendWith(p.client, req, p.name, oaicodec.DecodeError, p.creds, cred)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if n := resp.ContentLength; n > 0 && n <= MaxResponseBody {
		buf.B = slices.Grow(buf.B, int(n)+1) // +1: room for the read that sees EOF
	}
	if buf.B, err = provider.ReadAll(buf.B, resp.Body, MaxResponseBody); err == provider.ErrTooLarge {
		return &llm.Error{Status: http.StatusBadGateway, Type: llm.TypeAPI, Code: "response_too_large",
			Message: "the provider's answer is larger than the gateway accepts", Provider: p.name,
			Fault: llm.FaultProvider}
	}
	if err != nil {
		return provider.TransportError(ctx, p.name, err)
	}
	return nil
}
