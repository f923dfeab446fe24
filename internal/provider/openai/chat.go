package openai

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"

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
	if err != nil {
		return nil, err
	}
	u, err := p.endpoint(p.chatURL, req.Model, "chat/completions")
	if err != nil {
		return nil, err
	}
	raw, err := p.call(ctx, http.MethodPost, u, body)
	if err != nil {
		return nil, err
	}
	resp, err := oaicodec.DecodeChatResponse(raw)
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
	if err != nil {
		return nil, err
	}
	u, err := p.endpoint(p.chatURL, req.Model, "chat/completions")
	if err != nil {
		return nil, err
	}
	build := func(ctx context.Context) (*http.Request, error) {
		return p.newRequest(ctx, http.MethodPost, u, body, true), nil
	}
	return provider.OpenStream(ctx, p.client, p.name, p.timeout, build, oaicodec.DecodeError, oaicodec.NewStreamDecoder(p.name))
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
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	// A constant URL cannot fail to parse; the real URL is set below
	// without a second parse.
	req, _ := http.NewRequestWithContext(ctx, method, "http://upstream/", rd)
	cu := *u
	req.URL, req.Host = &cu, cu.Host
	req.Header = p.header.Clone()
	if body != nil {
		req.Header["Content-Type"] = []string{"application/json"}
	}
	if stream {
		req.Header["Accept"] = []string{"text/event-stream"}
	} else {
		req.Header["Accept"] = []string{"application/json"}
	}
	return req
}

// call performs a request with a JSON answer and returns its body. The
// timeout bounds the whole call, reading the body included.
func (p *Provider) call(ctx context.Context, method string, u *url.URL, body []byte) ([]byte, error) {
	if p.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}
	resp, err := provider.Send(p.client, p.newRequest(ctx, method, u, body, false), p.name, oaicodec.DecodeError)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if n := resp.ContentLength; n > 0 && n <= MaxResponseBody {
		buf.Grow(int(n))
	}
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, MaxResponseBody+1)); err != nil {
		return nil, provider.TransportError(ctx, p.name, err)
	}
	if buf.Len() > MaxResponseBody {
		return nil, &llm.Error{Status: http.StatusBadGateway, Type: llm.TypeAPI, Code: "response_too_large",
			Message: "the provider's answer is larger than the gateway accepts", Provider: p.name,
			Fault: llm.FaultProvider}
	}
	return buf.Bytes(), nil
}
