package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
)

// callerError fails t unless err is a 400 *llm.Error.
func callerError(t *testing.T, err error) {
	t.Helper()
	var e *llm.Error
	if !errors.As(err, &e) || e.Status != 400 || e.Type != llm.TypeInvalidRequest {
		t.Fatalf("error %T %v is not a 400 *llm.Error", err, err)
	}
}

func FuzzDecodeChatRequest(f *testing.F) {
	for _, path := range requestFixtures(f) {
		f.Add(readFile(f, path))
	}
	for _, s := range []string{
		``, `[]`, `{"model":"m","messages":"hi"}`, `{"model":"m","messages":[{"role":"robot"}]}`,
		`{"model":"m","messages":[{"role":"tool","tool_call_id":"c","content":[{"type":"image_url","image_url":"u"}]}]}`,
		`{"model":"m","messages":[{"role":"assistant","content":[{"type":"refusal","refusal":"no"}],"audio":{"id":"a"}}],"tool_choice":{"type":"custom","custom":{"name":"x"}}}`,
		`{"Model":"m"}`, `{"mod\u0065l":"m","messages":[{"role":"user","content":"x"}],"\u00e9":1}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"stop":["a",1],"n":1.5}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeChatRequest(body)
		if err != nil {
			callerError(t, err)
			return
		}
		for _, typ := range []string{"openai", "vllm"} {
			out, err := EncodeChatRequest(req, EncodeOptions{Provider: "up", Type: typ, IncludeUsage: true})
			if err != nil {
				callerError(t, err)
				continue
			}
			if !json.Valid(out) {
				t.Fatalf("encoded invalid JSON:\n%s", out)
			}
			if _, err := DecodeChatRequest(out); err != nil {
				t.Fatalf("the encoding of a valid request does not decode: %v\n%s", err, out)
			}
		}
	})
}

func FuzzDecodeEmbeddingsRequest(f *testing.F) {
	for _, s := range []string{
		`{"model":"e","input":"x"}`, `{"model":"e","input":["a","b"],"dimensions":3,"encoding_format":"base64"}`,
		`{"model":"e","input":[1,2]}`, `{"model":"e","input":[[1],[2,3]],"user":"u","extra":{"a":[1]}}`,
		`{"model":"e","input":[]}`, `{"model":"e","input":[[1,"x"]]}`, `{"model":"e","input":["a",5]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeEmbeddingsRequest(body)
		if err != nil {
			callerError(t, err)
			return
		}
		out, err := EncodeEmbeddingsRequest(req, EncodeOptions{Provider: "up"})
		if err != nil {
			callerError(t, err)
			return
		}
		if _, err := DecodeEmbeddingsRequest(out); err != nil {
			t.Fatalf("the encoding of a valid request does not decode: %v\n%s", err, out)
		}
	})
}

// FuzzStreamDecoder feeds arbitrary bytes as an upstream stream: decoding
// never panics, every error is an *llm.Error, and every chunk re-encodes
// to valid events.
func FuzzStreamDecoder(f *testing.F) {
	for _, path := range streamFixtures(f) {
		f.Add(readFile(f, path))
	}
	for _, s := range []string{
		"data: {\"error\":{\"message\":\"x\",\"code\":503}}\n\n",
		"event: error\ndata: nope\n\n",
		"data: {\"choices\":[{\"index\":2,\"delta\":{\"tool_calls\":[{\"index\":1,\"type\":\"custom\",\"custom\":{\"name\":\"n\",\"input\":\"i\"}}]}}],\"usage\":{\"prompt_tokens\":1}}\n\ndata: [DONE]\n\n",
		"data: {\"choices\":[{\"delta\":{\"content\":[{\"text\":\"a\"}],\"reasoning\":\"r\"},\"finish_reason\":\"function_call\",\"logprobs\":{}}],\"created\":1.5}\n\n",
		": ping\n\ndata: {\"id\":\"\\u00e9\"}\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := provider.NewSSEStream(context.Background(), "up", io.NopCloser(bytes.NewReader(data)), NewStreamDecoder("up"))
		enc := NewStreamEncoder(true)
		var out []byte
		for {
			c, err := s.Recv()
			if err == io.EOF {
				out = enc.AppendDone(out[:0])
				checkEvents(t, out)
				return
			}
			if err != nil {
				var e *llm.Error
				if !errors.As(err, &e) {
					t.Fatalf("error %T %v is not an *llm.Error", err, err)
				}
				checkEvents(t, AppendStreamError(nil, e))
				return
			}
			if out, err = enc.AppendChunk(out[:0], c); err != nil {
				t.Fatal(err)
			}
			checkEvents(t, out)
		}
	})
}

func FuzzDecodeChatResponse(f *testing.F) {
	for _, path := range fixtures(f, "testdata/responses/*.json") {
		f.Add(readFile(f, path))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := DecodeChatResponse(body)
		if err != nil {
			var e *llm.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not an *llm.Error", err, err)
			}
			return
		}
		out, err := EncodeChatResponse(resp)
		if err != nil || !json.Valid(out) {
			t.Fatalf("encode: %v\n%s", err, out)
		}
	})
}

// checkEvents fails t unless b is a sequence of "data: <JSON or [DONE]>\n\n".
func checkEvents(t *testing.T, b []byte) {
	t.Helper()
	for len(b) > 0 {
		line, rest, ok := bytes.Cut(b, []byte("\n\n"))
		if !ok || !bytes.HasPrefix(line, []byte("data: ")) {
			t.Fatalf("malformed event %q", b)
		}
		data := line[len("data: "):]
		if string(data) != "[DONE]" && !json.Valid(data) {
			t.Fatalf("event data is not JSON: %s", data)
		}
		b = rest
	}
}

// FuzzDecodeEmbeddingsResponse checks the hand-written vector parser against
// encoding/json: where both accept a body, the vectors are equal.
func FuzzDecodeEmbeddingsResponse(f *testing.F) {
	for _, s := range []string{
		`{"data":[{"index":0,"embedding":[0.0023064255,-0.009327292,1e-7,3.4028235e+38,0,-1]}],"usage":{"prompt_tokens":1}}`,
		`{"data":[{"index":0,"embedding":"AACAPw=="},{"index":1,"embedding":[ 1 , 2 ]}]}`,
		`{"data":[{"embedding":[]}]}`, `{"data":[{"embedding":[1e39]}]}`, `{"data":[{"embedding":[-0, 1E-45]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := DecodeEmbeddingsResponse(body)
		var std struct {
			Data []struct {
				Embedding json.RawMessage `json:"embedding"`
			} `json:"data"`
		}
		if err != nil {
			var e *llm.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not an *llm.Error", err, err)
			}
			return
		}
		if json.Unmarshal(body, &std) != nil || len(std.Data) != len(resp.Data) {
			t.Fatalf("accepted a body encoding/json rejects: %s", body)
		}
		for i, d := range std.Data {
			var v []float32
			if len(d.Embedding) == 0 || d.Embedding[0] != '[' {
				continue
			}
			if err := json.Unmarshal(d.Embedding, &v); err != nil {
				t.Fatalf("accepted a vector encoding/json rejects: %s (%v)", d.Embedding, err)
			}
			if !slices.Equal(v, resp.Data[i].Vector) && !(len(v) == 0 && len(resp.Data[i].Vector) == 0) {
				t.Fatalf("vector %d = %v, encoding/json says %v", i, resp.Data[i].Vector, v)
			}
		}
		if out, err := EncodeEmbeddingsResponse(resp); err != nil || !json.Valid(out) {
			t.Fatalf("encode: %v %s", err, out)
		}
	})
}

// FuzzDecodeError feeds arbitrary upstream error bodies: the result is
// always a usable error that never echoes a 401 body.
func FuzzDecodeError(f *testing.F) {
	for _, path := range fixtures(f, "testdata/errors/*.json") {
		f.Add(401, readFile(f, path))
		f.Add(400, readFile(f, path))
	}
	f.Add(429, []byte(`{"error":"slow down"}`))
	f.Add(500, []byte(`{"detail":"boom","error":{"code":[1]}}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 400 || status > 599 {
			return
		}
		e := DecodeError("up", status, nil, body)
		if e == nil || e.Status < 400 || e.Status > 599 || e.Type == "" || e.Message == "" || e.Provider != "up" {
			t.Fatalf("DecodeError(%d, %q) = %+v", status, body, e)
		}
		if (status == 401 || status == 403) && len(body) > 8 && strings.Contains(e.Error(), string(body)) {
			t.Fatalf("a %d body reached the error: %v", status, e)
		}
		checkEvents(t, AppendStreamError(nil, e))
		if !json.Valid(EncodeError(e)) {
			t.Fatalf("EncodeError gave invalid JSON for %+v", e)
		}
	})
}
