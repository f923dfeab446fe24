package gateway

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	oaicodec "github.com/sluicehq/sluice/internal/codec/openai"
	"github.com/sluicehq/sluice/internal/config"
)

// guardBenchRules are the built-in checks: personal data redacted (in
// the request, and in the answer for the end-to-end benchmark), secrets
// and prompt injection blocked.
var guardBenchRules = map[string]string{
	"pii":       "{ id: pii, detector: pii, action: redact, apply: APPLY }",
	"secrets":   "{ id: secrets, detector: secrets }",
	"injection": "{ id: injection, detector: injection }",
}

// guardBenchPrompt is a 2 KB business note with an email and a phone
// number to redact, and no secret or injection.
var guardBenchPrompt = func() string {
	const note = "Our team met on Monday to review the quarterly plan. Sales grew in the northern region, while costs for " +
		"shipping rose because fuel prices went up in spring. Marketing proposed a new campaign for the autumn, focused on " +
		"small businesses that buy office furniture online. The finance group asked for a clearer forecast before approving " +
		"the budget, and the warehouse manager reported that the new shelving system cut picking times by about ten percent. " +
		"Customer support saw fewer complaints after the return policy was simplified, though delivery delays in December " +
		"remain a concern. Next steps: draft the campaign brief, update the forecast with the latest freight quotes, and " +
		"schedule a follow-up with the logistics partner. Please send comments on the draft agenda by Thursday so we can " +
		"circulate the final version to everyone before the board meeting. "
	s := "Notes from Jane (jane.doe@example.com, +1 415 555 0132). " + strings.Repeat(note, 3)
	return s[:2048]
}()

// guardBenchConfig is a gateway config with the named rules of
// guardBenchRules (none: no guardrails).
func guardBenchConfig(tb testing.TB, apply string, names ...string) *config.Config {
	tb.Helper()
	text := `
log: { level: warn }
auth: { require_keys: false }
metrics: { enabled: false }
request_log: { enabled: false }
providers: [ { name: up, type: openai, base_url: "http://upstream.invalid/v1", api_key: k } ]
models: [ { name: bench, targets: [ { provider: up, model: gpt-4o-mini } ] } ]
`
	if len(names) > 0 {
		text += "guardrails:\n"
		for _, n := range names {
			text += "  - " + strings.Replace(guardBenchRules[n], "APPLY", apply, 1) + "\n"
		}
	}
	cfg, err := config.Parse([]byte(text), "bench.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// BenchmarkGuardRequest is the request side of the guardrail stage on a
// 2 KB prompt (a system message and the user's): each built-in check
// alone, then all three, through guardRun.checkRequest as the stage runs
// it (the pii rule redacts, so "pii" and "all" include the copy of the
// request).
func BenchmarkGuardRequest(b *testing.B) {
	body := `{"model":"bench","messages":[{"role":"system","content":"You are a support agent."},{"role":"user","content":` +
		strconv.Quote(guardBenchPrompt) + `}]}`
	req, err := oaicodec.DecodeChatRequest([]byte(body))
	if err != nil {
		b.Fatal(err)
	}
	noAsk := func(string) func(context.Context, string) (string, error) { return nil }
	for _, tc := range []struct {
		name  string
		rules []string
	}{
		{"pii", []string{"pii"}}, {"secrets", []string{"secrets"}}, {"injection", []string{"injection"}},
		{"all", []string{"pii", "secrets", "injection"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			p, err := newGuardPolicy(guardBenchConfig(b, "request", tc.rules...), noAsk)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.SetBytes(int64(len(guardBenchPrompt)))
			for b.Loop() {
				gr := &guardRun{ri: &requestInfo{}, rules: p.rules}
				ex := &Exchange{Op: OpChat, Request: req}
				if err := gr.checkRequest(ctx, ex); err != nil {
					b.Fatal(err)
				}
				if (ex.Request == req) == slices.Contains(tc.rules, "pii") {
					b.Fatalf("redacted %v with rules %v", ex.Request != req, tc.rules)
				}
			}
		})
	}
}

// guardBenchAnswer is the canned upstream answer: about 1 KB of text with
// an email for the response-side pii rule.
var guardBenchAnswer = strings.Repeat("Thank you for your message; a replacement manual is on its way and the refund is approved. ", 10) +
	"Write to support@example.com with questions."

// guardCannedTransport answers every upstream request with
// guardBenchAnswer, whole or streamed in 16 chunks and a usage chunk,
// without sockets.
type guardCannedTransport struct{ whole, sse string }

func newGuardCannedTransport() guardCannedTransport {
	chunk := func(delta, finish string) string {
		f := "null"
		if finish != "" {
			f = strconv.Quote(finish)
		}
		return `data: {"id":"c1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":` +
			delta + `,"finish_reason":` + f + `}]}` + "\n\n"
	}
	var sse strings.Builder
	sse.WriteString(chunk(`{"role":"assistant","content":""}`, ""))
	n := len(guardBenchAnswer) / 16
	for i := 0; i < len(guardBenchAnswer); i += n {
		sse.WriteString(chunk(`{"content":`+strconv.Quote(guardBenchAnswer[i:min(i+n, len(guardBenchAnswer))])+`}`, ""))
	}
	sse.WriteString(chunk(`{}`, "stop"))
	sse.WriteString(`data: {"id":"c1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[],` +
		`"usage":{"prompt_tokens":520,"completion_tokens":240,"total_tokens":760}}` + "\n\n")
	sse.WriteString("data: [DONE]\n\n")
	whole := `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":` +
		strconv.Quote(guardBenchAnswer) + `},"finish_reason":"stop"}],"usage":{"prompt_tokens":520,"completion_tokens":240,"total_tokens":760}}`
	return guardCannedTransport{whole: whole, sse: sse.String()}
}

func (t guardCannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	resp := &http.Response{StatusCode: 200, Header: http.Header{}, Request: r, ProtoMajor: 1, ProtoMinor: 1}
	if strings.Contains(string(body), `"stream":true`) {
		resp.Header.Set("Content-Type", "text/event-stream")
		resp.Body = io.NopCloser(strings.NewReader(t.sse))
	} else {
		resp.Header.Set("Content-Type", "application/json")
		resp.Body = io.NopCloser(strings.NewReader(t.whole))
	}
	return resp, nil
}

// BenchmarkChatCompletionGuarded is one chat request with a 2 KB prompt
// through the whole gateway (as BenchmarkChatCompletion's "bare" mode),
// without guardrails and with the three built-in checks (pii redacting
// requests and answers, secrets and injection blocking requests); whole
// and streamed. The difference is the guardrails' cost per request.
func BenchmarkChatCompletionGuarded(b *testing.B) {
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	client := &http.Client{Transport: newGuardCannedTransport()}
	for _, stream := range []bool{false, true} {
		for _, on := range []bool{false, true} {
			name := map[bool]string{false: "whole", true: "stream"}[stream] + "/" + map[bool]string{false: "off", true: "on"}[on]
			b.Run(name, func(b *testing.B) {
				var rules []string
				if on {
					rules = []string{"pii", "secrets", "injection"}
				}
				g, err := New(guardBenchConfig(b, "both", rules...), Options{Logger: log, Client: client})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(g.Close)
				h := g.Handler()
				body := `{"model":"bench","stream":` + strconv.FormatBool(stream) + `,"messages":[{"role":"user","content":` +
					strconv.Quote(guardBenchPrompt) + `}]}`
				wantEnd, wantHeader := "}", ""
				if stream {
					wantEnd = "data: [DONE]\n\n"
				}
				if on {
					wantHeader = "pii:redact"
				}
				b.ReportAllocs()
				b.SetBytes(int64(len(body)))
				for b.Loop() {
					req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body))
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					out := rec.Body.String()
					if rec.Code != 200 || !strings.HasSuffix(out, wantEnd) || rec.Header().Get("X-Sluice-Guardrails") != wantHeader ||
						strings.Contains(out, "support@example.com") == on {
						b.Fatalf("%d %q: %s", rec.Code, rec.Header().Get("X-Sluice-Guardrails"), out)
					}
				}
			})
		}
	}
}
