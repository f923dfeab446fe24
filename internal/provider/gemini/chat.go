package gemini

import (
	"context"
	"net/http"

	codec "github.com/sluicehq/sluice/internal/codec/gemini"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
)

var (
	_ provider.EventDecoder = (*codec.StreamDecoder)(nil)
	_ provider.Finisher     = (*codec.StreamDecoder)(nil)
)

// Chat sends req to models/{model}:generateContent and returns the whole
// answer. req.Stream is ignored.
func (p *Provider) Chat(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	body, path, err := p.encode(req, "generateContent")
	if err != nil {
		return nil, err
	}
	b, err := p.post(ctx, path, body)
	if err != nil {
		return nil, err
	}
	out, err := codec.DecodeGenerateResponse(b)
	if err != nil {
		return nil, p.own(err)
	}
	return out, nil
}

// ChatStream sends req to models/{model}:streamGenerateContent?alt=sse. It
// returns once Gemini has answered 2xx; a stream that ends without every
// candidate's finishReason fails with "stream_truncated" (Gemini has no end
// event), and an {"error":…} event mid-stream fails with that error.
func (p *Provider) ChatStream(ctx context.Context, req *llm.Request) (llm.Stream, error) {
	body, path, err := p.encode(req, "streamGenerateContent")
	if err != nil {
		return nil, err
	}
	cred := provider.Pick(p.creds)
	build := func(ctx context.Context) (*http.Request, error) {
		hr, err := p.newRequest(ctx, http.MethodPost, path, "alt=sse", body, cred)
		if err != nil {
			return nil, err
		}
		hr.Header.Set("Accept", "text/event-stream")
		return hr, nil
	}
	return provider.OpenStreamWith(ctx, p.client, p.name, p.timeout, build, p.decodeError,
		codec.NewStreamDecoder(p.name), p.creds, cred)
}

func (p *Provider) encode(req *llm.Request, method string) (body []byte, path string, err error) {
	if path, err = modelPath(req.Model, method); err != nil {
		return nil, "", p.own(err)
	}
	body, err = codec.EncodeGenerateRequest(req, codec.EncodeOptions{Provider: p.name})
	if err == nil {
		body, err = provider.PatchBody(body, req.Patch)
	}
	if err != nil {
		return nil, "", p.own(err)
	}
	return body, path, nil
}
