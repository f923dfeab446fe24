package gemini

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/sse"
)

// checkErr fails unless err is an *llm.Error a client can be given.
func checkErr(t *testing.T, err error) {
	t.Helper()
	var e *llm.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *llm.Error", err, err)
	}
	if e.Status < 400 || e.Status > 599 || e.Type == "" || e.Message == "" {
		t.Fatalf("error %+v is not a usable client error", e)
	}
}

func FuzzDecodeGenerateResponse(f *testing.F) {
	for _, b := range decodeFixtures(f) {
		f.Add(b)
	}
	for _, tc := range streamCases() {
		for _, ev := range tc.events {
			f.Add([]byte(ev))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := DecodeGenerateResponse(body)
		if err != nil {
			checkErr(t, err)
			return
		}
		if resp.ID == "" || len(resp.Choices) == 0 {
			t.Fatalf("response without ID or choices: %+v", resp)
		}
		for _, ch := range resp.Choices {
			if ch.Message.Role != llm.RoleAssistant {
				t.Fatalf("choice role %q", ch.Message.Role)
			}
			for _, tc := range ch.Message.ToolCalls() {
				if tc.ID == "" || !json.Valid([]byte(tc.Arguments)) {
					t.Fatalf("tool call %+v has no ID or invalid arguments", tc)
				}
			}
			if ch.Logprobs != nil && !json.Valid(ch.Logprobs) {
				t.Fatalf("invalid logprobs %s", ch.Logprobs)
			}
		}
	})
}

// sseStream frames events as a Gemini stream does.
func sseStream(events []string) []byte {
	var b []byte
	for _, ev := range events {
		b = sse.AppendEvent(b, "", []byte(ev))
	}
	return b
}

func FuzzStreamDecoder(f *testing.F) {
	for _, tc := range streamCases() {
		f.Add(sseStream(tc.events))
	}
	// The recorded streams the provider tests replay.
	files, _ := filepath.Glob("../../provider/gemini/testdata/*.sse")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		r := sse.NewReader(bytes.NewReader(stream), 1<<16)
		d := NewStreamDecoder("google")
		usages := 0
		roles := map[int]int{}
		finishes := map[int]int{}
		var decErr error
		for decErr == nil {
			ev, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return // the reader's own bound; not the decoder's concern
			}
			c, done, err := d.Decode(ev)
			if done {
				t.Fatal("done from a Gemini decoder")
			}
			if err != nil {
				checkErr(t, err)
				decErr = err
				break
			}
			if c == nil {
				continue
			}
			if c.ID == "" {
				t.Fatal("chunk without ID")
			}
			if c.Usage != nil {
				usages++
			}
			if len(c.Deltas) == 0 && c.Usage == nil {
				t.Fatal("empty chunk returned")
			}
			for _, dl := range c.Deltas {
				if dl.Role != "" {
					roles[dl.Index]++
				}
				if dl.FinishReason != "" {
					finishes[dl.Index]++
				}
				for _, tc := range dl.ToolCalls {
					if tc.ID == "" || !json.Valid([]byte(tc.Arguments)) {
						t.Fatalf("tool call delta %+v has no ID or invalid arguments", tc)
					}
				}
			}
		}
		if usages > 1 {
			t.Fatalf("usage reported %d times", usages)
		}
		for idx, n := range roles {
			if n != 1 {
				t.Fatalf("candidate %d got a role %d times", idx, n)
			}
		}
		for idx, n := range finishes {
			if n != 1 || roles[idx] != 1 {
				t.Fatalf("candidate %d finished %d times (role sent %d times)", idx, n, roles[idx])
			}
		}
		if decErr != nil {
			return
		}
		complete := len(roles) > 0 && len(finishes) == len(roles)
		if err := d.Finish(); (err == nil) != complete {
			t.Fatalf("Finish() = %v, but %d candidates started and %d finished", err, len(roles), len(finishes))
		} else if err != nil {
			checkErr(t, err)
		}
	})
}

func FuzzDecodeError(f *testing.F) {
	f.Add(400, []byte(`{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT","details":[{"@type":"x","reason":"API_KEY_INVALID"}]}}`))
	f.Add(429, []byte(`[{"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED","details":[{"retryDelay":"1.5s"}]}}]`))
	f.Add(502, []byte(`<html>`))
	f.Add(200, []byte(`{"error":{"code":7}}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := DecodeError("google", status, http.Header{}, body)
		checkErr(t, e)
		if e.Provider != "google" || e.Fault != llm.FaultProvider || e.RetryAfter < 0 {
			t.Fatalf("error %+v", e)
		}
	})
}

func FuzzSplitCallID(f *testing.F) {
	f.Add("call_0123456789abcdef__thought__CvMBAXLI2nz-Qm_9kA")
	f.Add("x__thought__" + strings.Repeat("A", 5))
	f.Fuzz(func(t *testing.T, id string) {
		sig := splitCallID(id)
		if sig == "" {
			return
		}
		if _, err := base64.StdEncoding.DecodeString(sig); err != nil {
			t.Fatalf("splitCallID(%q) = %q, not standard base64: %v", id, sig, err)
		}
	})
}
