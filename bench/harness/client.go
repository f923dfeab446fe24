package harness

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// The request bodies every system receives. The model "bench" is a Sluice
// virtual model mapped to the mock's model "bench", so the mock sees the
// same request body whichever system is in front of it. The mock echoes the
// prompt, split into at most one chunk per rune: the prompt is long enough
// (117 runes) for the longest stream the phases ask for.
var (
	ChatBody   = []byte(`{"model":"bench","messages":[{"role":"user","content":"Write one short sentence about rivers, and keep it under twenty words so that it fits on a single line of a terminal."}],"max_tokens":64}`)
	StreamBody = []byte(`{"model":"bench","messages":[{"role":"user","content":"Write one short sentence about rivers, and keep it under twenty words so that it fits on a single line of a terminal."}],"max_tokens":64,"stream":true,"stream_options":{"include_usage":true}}`)
)

// ChatPath is the endpoint under load, relative to a system's base URL.
const ChatPath = "/v1/chat/completions"

// Headers returns the headers of every benchmark request.
func Headers() http.Header {
	return http.Header{
		"Content-Type":  {"application/json"},
		"Authorization": {"Bearer " + ClientKey},
	}
}

// Check sends one chat request and fails unless it is answered 200 with a
// chat completion; then it checks the declared features it can observe.
// A system that fails here is reported, not measured.
func Check(ctx context.Context, base string, features []Feature) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+ChatPath, bytes.NewReader(ChatBody))
	if err != nil {
		return err
	}
	req.Header = Headers()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("check request: %w", err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	code := resp.StatusCode
	if err != nil {
		return fmt.Errorf("check request: %w", err)
	}
	if code != http.StatusOK || !bytes.Contains(body, []byte(`"choices"`)) {
		return fmt.Errorf("check request: status %d, body %.300q", code, body)
	}
	for _, f := range features {
		if !f.On {
			continue
		}
		switch f.Name {
		case "key-auth":
			h := Headers()
			h.Del("Authorization")
			code, body, err := post(ctx, base+ChatPath, ChatBody, h)
			if err != nil {
				return fmt.Errorf("check key-auth: %w", err)
			}
			if code != http.StatusUnauthorized {
				return fmt.Errorf("check key-auth: config says on, but a request without a key got status %d: %.200q", code, body)
			}
		case "rate-limits":
			// The bench key's limit, reported on every answer to a
			// limited caller, proves the check ran.
			if got, want := resp.Header.Get("X-Ratelimit-Limit-Requests"), fmt.Sprint(BenchRPM); got != want {
				return fmt.Errorf("check rate-limits: config says on, but x-ratelimit-limit-requests is %q, want %s", got, want)
			}
		case "metrics":
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
			if err != nil {
				return err
			}
			code, _, err := do(req)
			if err != nil {
				return fmt.Errorf("check metrics: %w", err)
			}
			if code != http.StatusOK {
				return fmt.Errorf("check metrics: config says on, but GET /metrics got status %d", code)
			}
		}
	}
	return nil
}

func post(ctx context.Context, url string, body []byte, h http.Header) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header = h
	return do(req)
}

func do(req *http.Request) (int, []byte, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}
