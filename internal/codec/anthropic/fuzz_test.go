package anthropic

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/sse"
)

// seedFiles adds every file under testdata/dir to f's corpus.
func seedFiles(f *testing.F, dir, pattern string) {
	names, err := filepath.Glob(filepath.Join("testdata", dir, pattern))
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range names {
		if strings.Contains(n, ".golden.") {
			continue
		}
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzDecodeMessagesRequest checks that decoding never panics, that every
// failure is a 400 *llm.Error, and that whatever decodes also encodes for
// an Anthropic upstream into valid JSON that decodes to the same request.
func FuzzDecodeMessagesRequest(f *testing.F) {
	seedFiles(f, "requests", "*.json")
	for _, s := range []string{
		`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}]}`,
		`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":[{"type":"text","text":"t"}]},{"type":"text","text":"u"}]}]}`,
		`{"model":"m","max_tokens":1,"thinking":{"type":"enabled","budget_tokens":2000},"messages":[{"role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"s"}]}]}`,
		`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"mystery","x":{"y":[1]}}]}],"extra":[1]}`,
		`{"model":"m","max_tokens":-1}`, `{"model":`, `[]`, `{"a\u0000":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeMessagesRequest(body)
		if err != nil {
			e, ok := err.(*llm.Error)
			if !ok || e.Status != 400 || e.Fault != llm.FaultCaller {
				t.Fatalf("decode error %v (%T) is not a 400 caller *llm.Error", err, err)
			}
			return
		}
		out, err := EncodeMessagesRequest(req, EncodeOptions{})
		if err != nil {
			if e, ok := err.(*llm.Error); !ok || e.Status != 400 {
				t.Fatalf("encode error %v is not a 400 *llm.Error", err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("encoded body is not valid JSON:\n%s", out)
		}
		again, err := DecodeMessagesRequest(out)
		if err != nil {
			// Encoding drops what Anthropic would reject (empty text, empty
			// messages), which may leave too little to decode.
			if e := err.(*llm.Error); e.Param != "messages" && e.Param != "model" {
				t.Fatalf("re-decode of %s: %v", out, err)
			}
			return
		}
		out2, err := EncodeMessagesRequest(again, EncodeOptions{})
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if diff := cmp.Diff(jsonValue(t, out), jsonValue(t, out2)); diff != "" {
			t.Fatalf("encoding is not stable (-first +second):\n%s", diff)
		}
	})
}

// FuzzDecodeMessagesResponse checks that response decoding never panics,
// fails only with *llm.Error, and that what decodes re-encodes as JSON.
func FuzzDecodeMessagesResponse(f *testing.F) {
	seedFiles(f, "responses", "*.json")
	f.Add([]byte(`{"type":"error","error":{"type":"api_error","message":"x"}}`))
	f.Add([]byte(`{"type":"message","content":[{"type":"tool_use","id":"a","name":"b","input":[1]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := DecodeMessagesResponse(body)
		if err != nil {
			if _, ok := err.(*llm.Error); !ok {
				t.Fatalf("error %v (%T) is not an *llm.Error", err, err)
			}
			return
		}
		out, err := EncodeMessagesResponse(resp)
		if err != nil {
			if e, ok := err.(*llm.Error); !ok || e.Code != "invalid_tool_arguments" {
				t.Fatalf("encode: %v", err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("encoded response is not valid JSON:\n%s", out)
		}
	})
}

// FuzzStreamDecoder feeds arbitrary event streams to the decoder and the
// decoded chunks to the encoder: nothing may panic, errors must be
// *llm.Error values, and the encoder must write well-formed events.
func FuzzStreamDecoder(f *testing.F) {
	seedFiles(f, "sse", "*_response.txt")
	seedFiles(f, "sse", "*.sse")
	f.Add([]byte("data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"n\"}}\n\n" +
		"data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\"}}\n\n"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		r := sse.NewReader(bytes.NewReader(stream), 1<<16)
		d := NewStreamDecoder("p")
		enc := NewStreamEncoder("m")
		var out []byte
		for range 10000 {
			ev, err := r.Next()
			if err != nil {
				break
			}
			c, done, err := d.Decode(ev)
			if err != nil {
				if _, ok := err.(*llm.Error); !ok {
					t.Fatalf("decode error %v (%T) is not an *llm.Error", err, err)
				}
				break
			}
			if c != nil {
				if out, err = enc.AppendChunk(out, c); err != nil {
					break // e.g. content after the stop reason: reported, not written
				}
			}
			if done {
				break
			}
		}
		out = enc.AppendEnd(out)
		er := sse.NewReader(bytes.NewReader(out), 0)
		for {
			ev, err := er.Next()
			if err != nil {
				break
			}
			if !json.Valid(ev.Data) {
				t.Fatalf("encoder wrote invalid JSON %q in:\n%s", ev.Data, out)
			}
		}
	})
}
