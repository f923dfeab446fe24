package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/openai/openai-go/v3"

	"github.com/sluicehq/sluice/internal/mock"
)

// End-to-end tests of the guardrails on streamed answers: the mock splits
// its echo into StreamChunks pieces, chosen so that what the rules look
// for arrives split across chunks.

// mockPieces is how the mock splits an answer of s into n stream pieces
// (internal/mock: pieces): equal rune counts, the first ones a rune
// longer.
func mockPieces(s string, n int) []string {
	runes := []rune(s)
	n = min(n, len(runes))
	if n <= 1 {
		return []string{s}
	}
	out := make([]string, 0, n)
	base, extra, at := len(runes)/n, len(runes)%n, 0
	for k := range n {
		size := base
		if k < extra {
			size++
		}
		if k == n-1 {
			size = len(runes) - at
		}
		out = append(out, string(runes[at:at+size]))
		at += size
	}
	return out
}

// piecesSpanned is how many of the pieces hold a byte of the first v in
// their concatenation.
func piecesSpanned(pieces []string, v string) int {
	start := strings.Index(strings.Join(pieces, ""), v)
	if start < 0 {
		return 0
	}
	end, at, n := start+len(v), 0, 0
	for _, p := range pieces {
		if at < end && at+len(p) > start {
			n++
		}
		at += len(p)
	}
	return n
}

// wantSplit fails the test unless the mock, at chunks pieces, sends each
// value of answer in at least two of them: the premise of a stream test.
func wantSplit(t *testing.T, answer string, chunks int, values ...string) {
	t.Helper()
	ps := mockPieces(answer, chunks)
	for _, v := range values {
		if n := piecesSpanned(ps, v); n < 2 {
			t.Fatalf("at %d chunks %q arrives in %d piece(s) of %q", chunks, v, n, ps)
		}
	}
}

// sseResult is a streamed OpenAI answer as the client saw it.
type sseResult struct {
	text    string // the content deltas, concatenated
	errCode string // the code of an error event
	done    bool   // it ended with data: [DONE]
	finish  string
}

func readSSE(t *testing.T, body []byte) sseResult {
	t.Helper()
	var r sseResult
	for _, line := range strings.Split(string(body), "\n") {
		d, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		if r.done || r.errCode != "" {
			t.Fatalf("an event after the end: %s", body)
		}
		if d == "[DONE]" {
			r.done = true
			continue
		}
		var ev struct {
			Choices []struct {
				Delta        struct{ Content string }
				FinishReason *string `json:"finish_reason"`
			}
			Error *struct{ Code string }
		}
		if err := json.Unmarshal([]byte(d), &ev); err != nil {
			t.Fatalf("%v: %s", err, d)
		}
		if ev.Error != nil {
			r.errCode = ev.Error.Code
			continue
		}
		for _, c := range ev.Choices {
			r.text += c.Delta.Content
			if c.FinishReason != nil {
				r.finish = *c.FinishReason
			}
		}
	}
	return r
}

// streamAnswer is what the stream tests' prompt makes the mock stream.
const streamAnswer = "Card " + guardCard + " and key " + guardKey + " end."

// TestGuardStreamRedactsAcrossChunks: response-side redaction catches a
// card number and an API key split across chunks; the client's text has
// placeholders and the raw stream never a piece of either value. The
// OpenAI SDK reads the redacted stream.
func TestGuardStreamRedactsAcrossChunks(t *testing.T) {
	rules := guardrails("{ id: out-pii, detector: pii, apply: response, action: redact, kinds: [card] }",
		"{ id: out-keys, detector: secrets, apply: response, action: redact }")
	want := "Card [REDACTED_CARD_1] and key [REDACTED_OPENAI_KEY_1] end." // an answer's own placeholders
	for _, chunks := range []int{4, 12, len(streamAnswer)} {              // 2–3 chunks per value, 3–7, one byte each
		t.Run(fmt.Sprintf("%d chunks", chunks), func(t *testing.T) {
			wantSplit(t, streamAnswer, chunks, guardCard, guardKey)
			env := newEnvMock(t, mock.Options{StreamChunks: chunks}, rules)
			resp, body := env.post("/v1/chat/completions", chatRequest("chat-default", streamAnswer, true))
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			got := readSSE(t, body)
			if got.text != want || !got.done || got.finish != "stop" || got.errCode != "" {
				t.Errorf("stream %+v, want text %q, finish stop and [DONE]", got, want)
			}
			for _, v := range []string{"4111", "1111 1111", "sk-proj", guardKey[20:30]} {
				if strings.Contains(string(body), v) {
					t.Errorf("the stream shows %q:\n%s", v, body)
				}
			}
			rec := env.wantGuardrails(resp, "", "out-pii:redact", "out-keys:redact")
			if rec.Status != 200 {
				t.Errorf("record status %d", rec.Status)
			}

			client := env.openai()
			stream := client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
				Model:    "chat-default",
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(streamAnswer)},
			})
			var acc openai.ChatCompletionAccumulator
			for stream.Next() {
				acc.AddChunk(stream.Current())
			}
			if err := stream.Err(); err != nil {
				t.Fatalf("SDK: %v", err)
			}
			if got := sdkText(acc); got != want {
				t.Errorf("SDK text %q, want %q", got, want)
			}
		})
	}
}

// TestGuardStreamBlock: a response-side block ends the stream with a
// response_blocked error event and no [DONE], before the card is out.
func TestGuardStreamBlock(t *testing.T) {
	for _, chunks := range []int{4, 12} {
		t.Run(fmt.Sprintf("%d chunks", chunks), func(t *testing.T) {
			wantSplit(t, streamAnswer, chunks, guardCard)
			env := newEnvMock(t, mock.Options{StreamChunks: chunks},
				guardrails("{ id: out-pii, detector: pii, apply: response, kinds: [card] }"))
			resp, body := env.post("/v1/chat/completions", chatRequest("chat-default", streamAnswer, true))
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			got := readSSE(t, body)
			if got.errCode != "response_blocked" || got.done || got.finish != "" {
				t.Errorf("stream %+v, want a response_blocked error event, no finish, no [DONE]:\n%s", got, body)
			}
			if !strings.HasPrefix(streamAnswer, got.text) || strings.Contains(got.text, "4111") {
				t.Errorf("text before the block %q", got.text)
			}
			if strings.Contains(string(body), "1111") {
				t.Errorf("the stream shows a piece of the card:\n%s", body)
			}
			rec := env.wantGuardrails(resp, "response_blocked", "out-pii:block")
			if rec.Status != 400 {
				t.Errorf("record status %d, want 400", rec.Status)
			}

			client := env.openai()
			stream := client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
				Model:    "chat-default",
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(streamAnswer)},
			})
			for stream.Next() {
			}
			if err := stream.Err(); err == nil || !strings.Contains(err.Error(), "response_blocked") {
				t.Errorf("SDK error %v, want one naming response_blocked", err)
			}
		})
	}
}

// TestGuardStreamRestore: a request-side redaction with restore puts the
// email back into a streamed echo even when its placeholder arrives split
// across chunks.
func TestGuardStreamRestore(t *testing.T) {
	prompt := "Please reply to " + guardEmail + " today."
	redacted := "Please reply to [EMAIL_1] today."
	for _, chunks := range []int{3, 8, utf8.RuneCountInString(redacted)} {
		t.Run(fmt.Sprintf("%d chunks", chunks), func(t *testing.T) {
			wantSplit(t, redacted, chunks, "[EMAIL_1]")
			env := newEnvMock(t, mock.Options{StreamChunks: chunks}, "request_log: { flush_interval: 10ms, payloads: { enabled: true } }\n"+
				guardrails("{ id: pii, detector: pii, action: redact, restore: true }"))
			client := env.openai()
			stream := client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
				Model:    "chat-default",
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)},
			})
			var acc openai.ChatCompletionAccumulator
			deltas := 0
			for stream.Next() {
				c := stream.Current()
				acc.AddChunk(c)
				if len(c.Choices) > 0 && c.Choices[0].Delta.Content != "" {
					deltas++
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			if got := sdkText(acc); got != prompt {
				t.Errorf("SDK text %q, want %q", got, prompt)
			}
			if deltas < 2 {
				t.Errorf("%d content deltas: the answer was not streamed", deltas)
			}
			if up := env.lastUpstream().Body; !strings.Contains(up, redacted) || strings.Contains(up, guardEmail) {
				t.Errorf("the provider received %s", up)
			}

			resp, body := env.post("/v1/chat/completions", chatRequest("chat-default", prompt, true))
			if got := readSSE(t, body); got.text != prompt || !got.done {
				t.Errorf("stream %+v, want %q and [DONE]", got, prompt)
			}
			if got := resp.Header.Get("X-Sluice-Guardrails"); got != "pii:redact" {
				t.Errorf("x-sluice-guardrails %q", got)
			}
			rec := env.wantGuardrails(resp, "", "pii:redact")
			for name, b := range map[string][]byte{"request": rec.RequestBody, "response": rec.ResponseBody} {
				if !strings.Contains(string(b), "[EMAIL_1]") || strings.Contains(string(b), guardEmail) {
					t.Errorf("logged %s body: %s", name, b)
				}
			}
		})
	}
}

// sdkText is the text of an accumulated one-choice answer.
func sdkText(acc openai.ChatCompletionAccumulator) string {
	if len(acc.Choices) != 1 {
		return fmt.Sprintf("<%d choices>", len(acc.Choices))
	}
	return acc.Choices[0].Message.Content
}

// TestGuardStreamSchema: a schema rule checks a streamed answer at its
// finish: an invalid one ends with response_blocked instead of the
// finish, a valid one completes.
func TestGuardStreamSchema(t *testing.T) {
	env := newEnvMock(t, mock.Options{StreamChunks: 3}, guardrails("{ id: json, detector: schema }"))
	resp, body := env.post("/v1/chat/completions", schemaRequest("The city is Paris.", true))
	if got := readSSE(t, body); got.errCode != "response_blocked" || got.done || got.finish != "" {
		t.Errorf("invalid answer: stream %+v, want response_blocked and no finish or [DONE]", got)
	}
	env.wantGuardrails(resp, "response_blocked", "json:block")

	valid := `{"city":"Paris"}`
	resp, body = env.post("/v1/chat/completions", schemaRequest(valid, true))
	if got := readSSE(t, body); got.text != valid || !got.done || got.finish != "stop" {
		t.Errorf("valid answer: stream %+v", got)
	}
	if rec := env.record(resp.Header.Get("X-Request-Id")); slices.Contains(rec.Guardrails, "json:block") || rec.ErrorCode != "" {
		t.Errorf("valid answer's record: %q %q", rec.Guardrails, rec.ErrorCode)
	}
}
