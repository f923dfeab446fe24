package gateway

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/llm"
)

// TestRewriteTextsCopiesOnWrite: a rewrite changes a copy of the request
// (texts, tool-call arguments, tool results) and never the request
// itself, which the caller may share; with nothing to change it returns
// the request as it is.
func TestRewriteTextsCopiesOnWrite(t *testing.T) {
	req := &llm.Request{Messages: []llm.Message{
		{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart("system secret")}},
		{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("user secret"), llm.TextPart("plain")}},
		{Role: llm.RoleAssistant, Parts: []llm.Part{{Kind: llm.PartToolCall,
			ToolCall: &llm.ToolCall{ID: "c1", Name: "f", Arguments: `{"q":"secret"}`}}}},
		{Role: llm.RoleTool, Parts: []llm.Part{{Kind: llm.PartToolResult,
			ToolResult: &llm.ToolResult{CallID: "c1", Parts: []llm.Part{llm.TextPart("tool secret")}}}}},
	}}
	before := cloneForTest(req)
	hide := func(s string) (string, error) { return strings.ReplaceAll(s, "secret", "[X]"), nil }

	all, err := rewriteTexts(req, true, hide)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, req); diff != "" {
		t.Fatalf("the request itself changed (-before +after):\n%s", diff)
	}
	got := []string{all.Messages[0].Parts[0].Text, all.Messages[1].Parts[0].Text, all.Messages[1].Parts[1].Text,
		all.Messages[2].Parts[0].ToolCall.Arguments, all.Messages[3].Parts[0].ToolResult.Parts[0].Text}
	want := []string{"system [X]", "user [X]", "plain", `{"q":"[X]"}`, "tool [X]"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rewritten (-want +got):\n%s", diff)
	}

	callers, err := rewriteTexts(req, false, hide)
	if err != nil {
		t.Fatal(err)
	}
	if callers.Messages[0].Parts[0].Text != "system secret" || callers.Messages[2].Parts[0].ToolCall.Arguments != `{"q":"secret"}` {
		t.Error("callers-only rewrite touched the system message or the assistant's tool call")
	}
	if callers.Messages[1].Parts[0].Text != "user [X]" || callers.Messages[3].Parts[0].ToolResult.Parts[0].Text != "tool [X]" {
		t.Error("callers-only rewrite missed a user text or a tool result")
	}

	same, err := rewriteTexts(req, true, func(s string) (string, error) { return s, nil })
	if err != nil || same != req {
		t.Errorf("a rewrite that changes nothing returned a copy (%v)", err)
	}
}

func cloneForTest(req *llm.Request) *llm.Request {
	c := *req
	c.Messages = nil
	for _, m := range req.Messages {
		m.Parts = append([]llm.Part(nil), m.Parts...)
		for i := range m.Parts {
			if tc := m.Parts[i].ToolCall; tc != nil {
				x := *tc
				m.Parts[i].ToolCall = &x
			}
			if tr := m.Parts[i].ToolResult; tr != nil {
				x := *tr
				x.Parts = append([]llm.Part(nil), tr.Parts...)
				m.Parts[i].ToolResult = &x
			}
		}
		c.Messages = append(c.Messages, m)
	}
	return &c
}

// TestGuardAnswerPlaceholdersAreNotRestored: an answer's own redactions
// get placeholders of their own, so restoring the request's values never
// turns the model's email into the caller's.
func TestGuardAnswerPlaceholdersAreNotRestored(t *testing.T) {
	pol, err := newGuardPolicy(&config.Config{Guardrails: []config.Guardrail{
		{ID: "in", Detector: "pii", Apply: "request", Action: "redact", Restore: true},
		{ID: "out", Detector: "pii", Apply: "response", Action: "redact"},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	gr := &guardRun{g: &Gateway{}, ri: &requestInfo{}, rules: pol.rules}
	ex := &Exchange{Request: &llm.Request{Messages: []llm.Message{
		{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("write to jane@example.com")}}}}}
	if err := gr.checkRequest(context.Background(), ex); err != nil {
		t.Fatal(err)
	}
	if got := ex.Request.Messages[0].Parts[0].Text; got != "write to [EMAIL_1]" {
		t.Fatalf("redacted request %q", got)
	}
	ex.Response = &llm.Response{Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant,
		Parts: []llm.Part{llm.TextPart("[EMAIL_1] and bob@example.org")}}}}}
	if err := gr.checkResponse(context.Background(), ex, nil, false); err != nil {
		t.Fatal(err)
	}
	if got, want := ex.Response.Choices[0].Message.Text(), "jane@example.com and [REDACTED_EMAIL_1]"; got != want {
		t.Errorf("answer %q, want %q", got, want)
	}
}

// TestGuardStreamWholeTextRules: on a stream, allow patterns judge the
// whole answer (not its pieces), and a blocked phrase split across chunks
// is still refused at the finish.
func TestGuardStreamWholeTextRules(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rule   config.Guardrail
		chunks []string
		code   string // "" when the stream passes
	}{
		{"allow passes", config.Guardrail{ID: "a", Detector: "rules", Apply: "response", Action: "block", Allow: []string{`Paris`}},
			[]string{"The capital of ", "France is ", "Paris."}, ""},
		{"allow refuses", config.Guardrail{ID: "a", Detector: "rules", Apply: "response", Action: "block", Allow: []string{`Paris`}},
			[]string{"The capital of ", "France is ", "Lyon."}, "response_blocked"},
		{"split phrase", config.Guardrail{ID: "k", Detector: "rules", Apply: "response", Action: "block", Keywords: []string{"credit card"}},
			[]string{"your credit", " card number"}, "response_blocked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pol, err := newGuardPolicy(&config.Config{Guardrails: []config.Guardrail{tc.rule}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			gr := &guardRun{g: &Gateway{}, ri: &requestInfo{}, rules: pol.rules}
			ex := &Exchange{Request: &llm.Request{}, Stream: &chunkStream{texts: tc.chunks}}
			s := gr.newGuardStream(context.Background(), ex)
			var code string
			for {
				_, err := s.Recv()
				if err == io.EOF {
					break
				}
				if err != nil {
					code = llm.AsError(err).Code
					break
				}
			}
			if code != tc.code {
				t.Errorf("stream ended with %q, want %q", code, tc.code)
			}
		})
	}
}

// chunkStream streams texts as one choice's deltas, the last finishing.
type chunkStream struct {
	texts []string
	i     int
}

func (s *chunkStream) Recv() (*llm.Chunk, error) {
	if s.i == len(s.texts) {
		return nil, io.EOF
	}
	d := llm.Delta{Text: s.texts[s.i]}
	if s.i++; s.i == len(s.texts) {
		d.FinishReason = llm.FinishStop
	}
	return &llm.Chunk{Deltas: []llm.Delta{d}}, nil
}

func (s *chunkStream) Close() error { return nil }

// TestGuardAnswerRefusalNamesTheKind: an answer refused by a pii rule
// names the kind found, not the answer-side label of its placeholders.
func TestGuardAnswerRefusalNamesTheKind(t *testing.T) {
	pol, err := newGuardPolicy(&config.Config{Guardrails: []config.Guardrail{
		{ID: "out", Detector: "pii", Apply: "response", Action: "block"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	gr := &guardRun{g: &Gateway{}, ri: &requestInfo{}, rules: pol.rules}
	ex := &Exchange{Request: &llm.Request{}, Response: &llm.Response{Choices: []llm.Choice{{Message: llm.Message{
		Role: llm.RoleAssistant, Parts: []llm.Part{llm.TextPart("mail bob@example.org")}}}}}}
	err = gr.checkResponse(context.Background(), ex, nil, false)
	if e := llm.AsError(err); e.Code != "response_blocked" || !strings.HasSuffix(e.Message, `guardrail "out" (email)`) {
		t.Errorf("error %q: %q", e.Code, e.Message)
	}
}
