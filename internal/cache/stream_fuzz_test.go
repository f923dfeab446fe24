package cache_test

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/cache"
	"github.com/sluicehq/sluice/internal/llm"
)

// FuzzReplayCollect checks that Replay then Collector gives back the
// answer, that Replay's pieces are bounded and cut on rune boundaries, and
// that the Collector refuses only logprobs that are not an object of
// arrays.
func FuzzReplayCollect(f *testing.F) {
	f.Add("hello", "thinking", "no", `{"a":1}`, []byte(`{"content":[{"token":"h"}],"refusal":null}`))
	f.Add(strings.Repeat("日本語", 400), "", "", "", []byte(nil))
	f.Add("a"+strings.Repeat("😀", 200), strings.Repeat("x", 1100), "", "{", []byte(`null`))
	f.Add("\xff\xfe", "\x80", "", "", []byte(`[1]`))
	f.Add("0", "\xcf", "\x9a", "0", []byte("0")) // each invalid, valid together
	f.Fuzz(func(t *testing.T, text, reasoning, refusal, args string, logprobs []byte) {
		var parts []llm.Part
		if reasoning != "" {
			parts = append(parts, llm.Part{Kind: llm.PartReasoning, Text: reasoning, Signature: "sig"})
		}
		if text != "" {
			parts = append(parts, llm.TextPart(text))
		}
		if args != "" {
			parts = append(parts, llm.Part{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "c", Name: "f", Arguments: args}})
		}
		if refusal != "" {
			parts = append(parts, llm.Part{Kind: llm.PartRefusal, Text: refusal})
		}
		want := &llm.Response{ID: "id", Model: "m", Usage: llm.Usage{OutputTokens: 1},
			Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Parts: parts},
				FinishReason: llm.FinishStop, Logprobs: logprobs}}}
		chunks, err := recvAll(t, cache.Replay(want))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range chunks {
			for _, d := range c.Deltas {
				for _, fs := range [][2]string{{d.Text, text}, {d.Reasoning, reasoning}, {d.Refusal, refusal}} {
					frag, src := fs[0], fs[1]
					if len(frag) > cache.ReplayPiece {
						t.Fatalf("piece of %d bytes", len(frag))
					}
					if utf8.ValidString(src) && !utf8.ValidString(frag) {
						t.Fatalf("piece %q cuts a rune of %q", frag, src)
					}
				}
			}
		}
		got, ok := collectAll(math.MaxInt, chunks)
		if !ok {
			if logprobsAcceptable(logprobs) {
				t.Fatalf("Collector refused a replay with logprobs %q", logprobs)
			}
			return
		}
		if len(bytes.TrimSpace(logprobs)) == 0 || string(bytes.TrimSpace(logprobs)) == "null" {
			want.Choices[0].Logprobs = nil
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Fatalf("round trip (-got +want):\n%s", diff)
		}
	})
}

// logprobsAcceptable reports whether raw is absent, null, or an object
// whose values are arrays or null: what a Collector must keep.
func logprobsAcceptable(raw []byte) bool {
	if len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return true
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || obj == nil {
		return false
	}
	for _, v := range obj {
		var arr []json.RawMessage
		if string(bytes.TrimSpace(v)) != "null" && (json.Unmarshal(v, &arr) != nil || arr == nil) {
			return false
		}
	}
	return true
}

// fuzzChunks decodes fuzz bytes into a stream: each op byte picks a field
// of a delta (or ends the chunk), the next byte a choice or tool-call
// index, and a length byte the string taken from the bytes that follow.
func fuzzChunks(data []byte) []*llm.Chunk {
	var out []*llm.Chunk
	cur := &llm.Chunk{}
	take := func(n int) string {
		n = min(n, len(data))
		s := string(data[:n])
		data = data[n:]
		return s
	}
	logprobs := []string{`{"content":[1],"refusal":null}`, `{"content":[2]}`, `null`, `[3]`, `{"content":{}}`, `{}`}
	for len(data) >= 3 {
		op, idx, n := data[0]%14, int(data[1]%4), int(data[2]%24)
		data = data[3:]
		d := llm.Delta{Index: idx}
		switch op {
		case 0, 1:
			d.Text = take(n)
		case 2:
			d.Reasoning = take(n)
		case 3:
			d.ReasoningSignature = take(n)
		case 4:
			d.RedactedReasoning = take(n)
		case 5:
			d.Refusal = take(n)
		case 6, 7:
			tc := llm.ToolCallDelta{Index: n % 3, Arguments: take(n)}
			if op == 6 {
				tc.ID, tc.Type, tc.Name = take(2), "function", take(3)
			}
			d.ToolCalls = []llm.ToolCallDelta{tc}
		case 8:
			d.FinishReason = llm.FinishReason(take(n%6 + 1))
			d.StopSequence = take(n % 3)
		case 9:
			d.Logprobs = json.RawMessage(logprobs[n%len(logprobs)])
		case 10:
			d.Role = llm.Role(take(n % 8))
		case 11:
			cur.Usage = &llm.Usage{InputTokens: n, OutputTokens: idx}
			continue
		case 12:
			if n == 0 {
				d.Raw, d.RawFormat = json.RawMessage(`{}`), "anthropic"
			}
		case 13:
			cur.ID, cur.Model, cur.Created = take(n%5), take(n%7), int64(n)
			out = append(out, cur)
			cur = &llm.Chunk{}
			continue
		}
		cur.Deltas = append(cur.Deltas, d)
	}
	return append(out, cur)
}

// FuzzCollector feeds arbitrary streams to a Collector: it must not panic,
// a collected answer must fit its bound, and replaying a collected answer
// must collect into the same answer.
func FuzzCollector(f *testing.F) {
	f.Add([]byte("\x00\x00\x05hello\x08\x00\x04stop"))
	f.Add([]byte("\x02\x00\x03abc\x03\x00\x02sg\x02\x00\x01d\x00\x01\x02hi\x08\x01\x01s\x08\x00\x01s\x0d\x00\x03idm"))
	f.Add([]byte("\x06\x00\x04{\"a\"\x07\x00\x04:1}x\x09\x00\x00\x09\x00\x01\x08\x00\x02st\x0b\x02\x05"))
	f.Add([]byte("\x0c\x00\x00\x08\x00\x01s"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxBytes = 4096
		first, ok := collectAll(maxBytes, fuzzChunks(data))
		if !ok {
			return
		}
		kept := 0
		for _, ch := range first.Choices {
			for _, p := range ch.Message.Parts {
				kept += len(p.Text) + len(p.Signature)
				if p.ToolCall != nil {
					kept += len(p.ToolCall.Arguments)
				}
			}
		}
		if kept > maxBytes {
			t.Fatalf("collected %d bytes with a bound of %d", kept, maxBytes)
		}
		replayed, err := recvAll(t, cache.Replay(first))
		if err != nil {
			t.Fatal(err)
		}
		again, ok := collectAll(math.MaxInt, replayed)
		if !ok {
			t.Fatal("a replayed collected answer is not collectible")
		}
		if diff := cmp.Diff(again, first); diff != "" {
			t.Fatalf("collect(replay(answer)) (-got +want):\n%s", diff)
		}
	})
}
