package gateway

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/sluicehq/sluice/internal/cache"
	oaicodec "github.com/sluicehq/sluice/internal/codec/openai"
	"github.com/sluicehq/sluice/internal/guard"
	"github.com/sluicehq/sluice/internal/guard/injection"
	"github.com/sluicehq/sluice/internal/llm"
)

// guardStage applies the guardrails (guard.go) to chat requests and their
// answers. On the way in, in rule order: a block refuses the request (400
// content_blocked) before it reaches a provider or the cache; a redact
// replaces what was found with placeholders in a copy of the request; a
// flag only records. On the way out the answer's rules run the same way
// (400 response_blocked for a whole answer; for a stream, the rules run
// on the text as it flows, with a small look-behind, and a block ends
// the stream with an error event), then the placeholders the model
// echoed are turned back into the original values where a redact rule
// says restore. What each rule did is in the request log as "id:action"
// ("id:fail_open" when a judge failed and let the text through), and in
// x-sluice-guardrails for what was known before the answer's headers went
// out (not what a stream's rules find as it flows); logged payloads are
// stored redacted.
func (g *Gateway) guardStage(next Handler) Handler {
	return HandlerFunc(func(ctx context.Context, ex *Exchange) error {
		s := g.snapFor(ctx)
		if s.guards == nil || ex.Op != OpChat {
			return next.Serve(ctx, ex)
		}
		ri := infoFrom(ctx)
		var rules []*guardRule
		for _, r := range s.guards.rules {
			if r.applies(ri.principal, ex.Request.Model) {
				rules = append(rules, r)
			}
		}
		if len(rules) == 0 { // nothing allocated for a request no rule covers
			return next.Serve(ctx, ex)
		}
		gr := &guardRun{g: g, ri: ri, rules: rules}
		if err := gr.checkRequest(ctx, ex); err != nil {
			return err
		}
		if err := next.Serve(ctx, ex); err != nil {
			return err
		}
		return gr.checkAnswer(ctx, ex, next)
	})
}

// guardRun is the guardrails of one request: the rules that apply, the
// redactions made, and what each rule did.
type guardRun struct {
	g     *Gateway
	ri    *requestInfo
	rules []*guardRule
	// red holds the request's redactions (nil until one); restore says a
	// rule that made one wants the originals back in the answer. respRed
	// holds the answer's own redactions, never restored.
	red     *guard.Redactor
	restore bool
	respRed *guard.Redactor
	// logRed holds what pii and secrets rules found but did not redact
	// (block, flag): the logged payloads hide it too.
	logRed  *guard.Redactor
	scratch []guard.Finding
}

// note records that rule r acted, once per rule and action.
func (gr *guardRun) note(r *guardRule, action string) {
	v := r.id + ":" + action
	for _, x := range gr.ri.guardrails {
		if x == v {
			return
		}
	}
	gr.ri.guardrails = append(gr.ri.guardrails, v)
}

// checkRequest runs the request's rules, replacing ex.Request with a
// redacted copy where a rule redacts. The logged request body is then
// the redacted one, blocked requests' included.
func (gr *guardRun) checkRequest(ctx context.Context, ex *Exchange) error {
	err := gr.requestRules(ctx, ex)
	gr.redactPayload(ex.Request)
	return err
}

func (gr *guardRun) requestRules(ctx context.Context, ex *Exchange) error {
	req := ex.Request
	for _, r := range gr.rules {
		if !r.req {
			continue
		}
		var err error
		switch {
		case r.textDetector():
			if r.rules != nil {
				if fs := r.rules.CheckRequest(gr.scratch[:0], req); len(fs) > 0 {
					if r.action == guard.ActionBlock {
						gr.note(r, guard.ActionBlock)
						return contentBlocked(r.id, kinds(fs))
					}
					gr.note(r, guard.ActionFlag) // limits cannot be redacted
				}
			}
			all := r.pii != nil // personal data is hidden wherever it is; rules judge what callers wrote
			req, err = rewriteTexts(req, all, func(text string) (string, error) { return gr.requestText(r, text) })
		case r.detector == "injection":
			err = gr.injection(r, req)
		case r.judge != nil:
			err = gr.judgeRequest(ctx, r, req)
		}
		if err != nil {
			return err
		}
	}
	ex.Request = req
	return nil
}

// requestText applies a text rule to one text of the request; its
// redactions may be restored in the answer.
func (gr *guardRun) requestText(r *guardRule, text string) (string, error) {
	if gr.red == nil && r.action == guard.ActionRedact {
		gr.red = guard.NewRedactor()
	}
	t, err := gr.applyText(r, r.find, text, gr.red, contentBlocked)
	if t != text {
		gr.restore = gr.restore || r.restore
	}
	return t, err
}

// answerText applies a text rule to one text of an answer; its
// redactions are never restored.
func (gr *guardRun) answerText(r *guardRule, text string) (string, error) {
	if gr.respRed == nil && r.action == guard.ActionRedact {
		gr.respRed = guard.NewRedactor()
	}
	return gr.applyText(r, answerFind(r), text, gr.respRed, responseBlocked)
}

// answerFind is a rule's detector for answers: its findings' kinds get a
// "redacted_" prefix, so an answer's own placeholders ([REDACTED_EMAIL_1])
// never collide with the request's ([EMAIL_1]), which are restored.
func answerFind(r *guardRule) guard.FindFunc {
	return func(dst []guard.Finding, text string) []guard.Finding {
		n := len(dst)
		dst = r.find(dst, text)
		for i := n; i < len(dst); i++ {
			dst[i].Kind = "redacted_" + dst[i].Kind
		}
		return dst
	}
}

// applyText runs a text rule's detector and applies its action: blocked
// makes the refusal, red redacts.
func (gr *guardRun) applyText(r *guardRule, find guard.FindFunc, text string, red *guard.Redactor,
	blocked func(id, what string) *llm.Error) (string, error) {
	fs := find(gr.scratch[:0], text)
	gr.scratch = fs[:0]
	if len(fs) == 0 {
		return text, nil
	}
	gr.note(r, r.action)
	if r.action != guard.ActionRedact && r.pii != nil && gr.ri.logPayload {
		if gr.logRed == nil {
			gr.logRed = guard.NewRedactor()
		}
		gr.logRed.Redact(text, fs) // remembers the values for the logged payloads
	}
	switch r.action {
	case guard.ActionBlock:
		return "", blocked(r.id, kinds(fs))
	case guard.ActionRedact:
		return red.Redact(text, fs), nil
	}
	return text, nil
}

// injection scores the user and tool messages.
func (gr *guardRun) injection(r *guardRule, req *llm.Request) error {
	var hit bool
	eachCallerText(req, func(text string) bool {
		hit = injection.Score(text) >= r.threshold
		return !hit
	})
	if !hit {
		return nil
	}
	if r.action == guard.ActionBlock {
		gr.note(r, guard.ActionBlock)
		return contentBlocked(r.id, "injection")
	}
	gr.note(r, guard.ActionFlag)
	return nil
}

// judgeRequest asks the rule's judge about the user and tool messages.
func (gr *guardRun) judgeRequest(ctx context.Context, r *guardRule, req *llm.Request) error {
	var b strings.Builder
	eachCallerText(req, func(text string) bool {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(text)
		return true
	})
	if b.Len() == 0 {
		return nil
	}
	return gr.verdict(r, r.judge.Check(ctx, b.String()), contentBlocked)
}

// verdict applies a judge's verdict with the rule's action.
func (gr *guardRun) verdict(r *guardRule, v guard.Verdict, blocked func(id, what string) *llm.Error) error {
	if !v.Unsafe && v.Err == nil {
		return nil
	}
	what, action := "judge: unsafe", v.Action
	if len(v.Categories) > 0 {
		what = "judge: " + strings.Join(v.Categories, ", ")
	}
	if v.Err != nil {
		if v.Action == "" {
			gr.note(r, "fail_open") // let through, but seen in the log
			return nil
		}
		// Fail closed: the rule's action applies (config.Guardrail.FailOpen).
		if r.action == guard.ActionBlock {
			gr.note(r, guard.ActionBlock)
			return guardUnavailable(r.id)
		}
		action = r.action
	}
	if action == guard.ActionBlock {
		gr.note(r, guard.ActionBlock)
		return blocked(r.id, what)
	}
	gr.note(r, guard.ActionFlag)
	return nil
}

// redactPayload makes the logged request body the redacted request
// (req, whatever ex.Request became), with what block and flag rules found
// hidden too: re-encoded in OpenAI form, so a value the client escaped in
// its JSON is hidden as well. A request that cannot be encoded so keeps
// its own body with the values replaced. The response body is hidden the
// same way as it is captured (see captureResponse).
func (gr *guardRun) redactPayload(req *llm.Request) {
	ri := gr.ri
	if !ri.logPayload || gr.red == nil && gr.logRed == nil {
		return
	}
	for _, red := range [...]*guard.Redactor{gr.red, gr.logRed} {
		if red != nil {
			ri.payloadRedactors = append(ri.payloadRedactors, red)
		}
	}
	hidden, _ := rewriteTexts(req, true, func(text string) (string, error) { return ri.hidePayload(text), nil })
	if b, err := oaicodec.EncodeChatRequest(hidden, oaicodec.EncodeOptions{}); err == nil {
		ri.reqBody = ri.capped(nil, b)
		return
	}
	ri.reqBody = []byte(ri.hidePayload(string(ri.reqBody)))
}

// eachCallerText calls fn with each text of the user and tool messages
// (tool results are where indirect injection arrives) until fn returns
// false.
func eachCallerText(req *llm.Request, fn func(string) bool) {
	for i := range req.Messages {
		m := &req.Messages[i]
		if m.Role != llm.RoleUser && m.Role != llm.RoleTool {
			continue
		}
		for j := range m.Parts {
			p := &m.Parts[j]
			switch {
			case p.Kind == llm.PartText && p.Text != "":
				if !fn(p.Text) {
					return
				}
			case p.Kind == llm.PartToolResult && p.ToolResult != nil:
				for k := range p.ToolResult.Parts {
					if q := &p.ToolResult.Parts[k]; q.Kind == llm.PartText && q.Text != "" && !fn(q.Text) {
						return
					}
				}
			}
		}
	}
}

// rewriteTexts calls fn on each text of the request's messages — of
// every message with all, else of user and tool messages only — and on
// tool-call arguments (with all). Where fn changes a text, the request is
// copied (once, sharing what did not change) and the copy changed; the
// request itself is never modified. The first error stops the walk.
func rewriteTexts(req *llm.Request, all bool, fn func(string) (string, error)) (*llm.Request, error) {
	out := req
	for i := range req.Messages {
		m := &req.Messages[i]
		if !all && m.Role != llm.RoleUser && m.Role != llm.RoleTool {
			continue
		}
		parts, err := rewriteParts(m.Parts, all, fn)
		if err != nil {
			return nil, err
		}
		if parts != nil {
			if out == req {
				c := *req
				c.Messages = append([]llm.Message(nil), req.Messages...)
				out = &c
			}
			out.Messages[i].Parts = parts
		}
	}
	return out, nil
}

// rewriteParts calls fn on the text, refusal and tool-result texts of
// parts, and on tool-call arguments with args. It returns a changed copy
// of parts, or nil when fn changed nothing; parts is never modified.
func rewriteParts(parts []llm.Part, args bool, fn func(string) (string, error)) ([]llm.Part, error) {
	var out []llm.Part
	set := func(j int) *llm.Part {
		if out == nil {
			out = append([]llm.Part(nil), parts...)
		}
		return &out[j]
	}
	for j := range parts {
		p := &parts[j]
		switch {
		case (p.Kind == llm.PartText || p.Kind == llm.PartRefusal) && p.Text != "":
			t, err := fn(p.Text)
			if err != nil {
				return nil, err
			}
			if t != p.Text {
				set(j).Text = t
			}
		case p.Kind == llm.PartToolCall && p.ToolCall != nil && args:
			t, err := fn(p.ToolCall.Arguments)
			if err != nil {
				return nil, err
			}
			if t != p.ToolCall.Arguments {
				tc := *p.ToolCall
				tc.Arguments = t
				set(j).ToolCall = &tc
			}
		case p.Kind == llm.PartToolResult && p.ToolResult != nil:
			inner, err := rewriteParts(p.ToolResult.Parts, false, fn)
			if err != nil {
				return nil, err
			}
			if inner != nil {
				tr := *p.ToolResult
				tr.Parts = inner
				set(j).ToolResult = &tr
			}
		}
	}
	return out, nil
}

// checkAnswer runs the answer's rules on a whole answer, or wraps a
// stream so they run as it flows.
func (gr *guardRun) checkAnswer(ctx context.Context, ex *Exchange, next Handler) error {
	switch {
	case ex.Response != nil:
		err := gr.checkResponse(ctx, ex, next, false)
		if err != nil && ex.Response != nil {
			ex.Usage = ex.Response.Usage // the provider was paid for the refused answer
		}
		return err
	case ex.Stream != nil:
		if s := gr.newGuardStream(ctx, ex); s != nil {
			ex.Stream = s
		}
	}
	return nil
}

// checkResponse applies the answer's rules to a whole answer, then
// restores the request's redactions in it. A schema rule with retry asks
// once more (retried says this is that second answer).
func (gr *guardRun) checkResponse(ctx context.Context, ex *Exchange, next Handler, retried bool) error {
	resp := ex.Response
	for _, r := range gr.rules {
		if !r.resp {
			continue
		}
		switch {
		case r.textDetector():
			out, err := rewriteAnswer(resp, func(text string) (string, error) { return gr.answerText(r, text) })
			if err != nil {
				return err
			}
			resp = out
		case r.detector == "schema":
			s := r.schema
			if s == nil {
				var err error
				if s, err = guard.SchemaFromRequest(ex.Request); err != nil || s == nil {
					continue
				}
			}
			for i := range resp.Choices {
				if s.Validate(resp.Choices[i].Message.Text()) == nil {
					continue
				}
				if r.action == guard.ActionFlag {
					gr.note(r, guard.ActionFlag)
					break
				}
				gr.forgetCached(ctx, ex)
				if r.retry && !retried {
					gr.note(r, "retry")
					ex.Response, ex.cacheSkip = nil, true
					if err := next.Serve(ctx, ex); err != nil {
						return err
					}
					if ex.Response == nil { // a stream cannot come back for a whole-answer request
						return responseBlocked(r.id, "schema")
					}
					return gr.checkResponse(ctx, ex, next, true)
				}
				gr.note(r, guard.ActionBlock)
				return responseBlocked(r.id, "schema")
			}
		case r.judge != nil:
			var b strings.Builder
			for i := range resp.Choices {
				b.WriteString(resp.Choices[i].Message.Text())
			}
			if b.Len() > 0 {
				if err := gr.verdict(r, r.judge.CheckRole(ctx, judgeAnswerRole, b.String()), responseBlocked); err != nil {
					return err
				}
			}
		}
	}
	if gr.restore && gr.red != nil && gr.red.Len() > 0 {
		resp, _ = rewriteAnswer(resp, func(text string) (string, error) { return gr.red.Restore(text), nil })
	}
	ex.Response = resp
	return nil
}

// judgeAnswerRole is how a judge's prompt names the author of an answer
// (Llama Guard's "Agent"; requests are the "User"'s).
const judgeAnswerRole = "Agent"

// forgetCached drops the cached copy of an answer a schema rule refused,
// so that neither a retry nor the next identical request gets it again.
func (gr *guardRun) forgetCached(ctx context.Context, ex *Exchange) {
	c := gr.g.cache
	if c == nil || gr.ri.cacheKey == "" || !ex.cacheStored {
		return
	}
	if k, err := cache.ParseKey(gr.ri.cacheKey); err == nil {
		if _, err := c.backend.Delete(ctx, k); err != nil {
			c.failed("delete", err)
		}
	}
}

// guardUnavailable refuses a request whose judge could not be asked and
// whose rule fails closed: the gateway's fault, not the caller's.
func guardUnavailable(id string) *llm.Error {
	return &llm.Error{Status: http.StatusServiceUnavailable, Type: llm.TypeAPI, Code: "guardrail_unavailable",
		Fault: llm.FaultProvider, Message: fmt.Sprintf("guardrail %q could not check the request: its judge is unavailable", id)}
}

// rewriteAnswer calls fn on each text and tool-call argument of a whole
// answer, copying the answer (once) where fn changes one: an answer may
// be shared (the cache, coalesced requests) and is never modified.
func rewriteAnswer(resp *llm.Response, fn func(string) (string, error)) (*llm.Response, error) {
	out := resp
	for i := range resp.Choices {
		parts, err := rewriteParts(resp.Choices[i].Message.Parts, true, fn)
		if err != nil {
			return nil, err
		}
		if parts != nil {
			if out == resp {
				c := *resp
				c.Choices = append([]llm.Choice(nil), resp.Choices...)
				out = &c
			}
			out.Choices[i].Message.Parts = parts
		}
	}
	return out, nil
}

// guardStream runs the answer's text rules on a stream as it flows: per
// choice, each rule's scanner in rule order, then the restorer of the
// request's redactions. Judges and schemas see the whole text at the
// choice's finish; a block there ends the stream with an error event
// instead of the finish.
type guardStream struct {
	llm.Stream
	gr  *guardRun
	ex  *Exchange
	ctx context.Context // the request's: a judge at the finish stops if the client left
	// text are the streamed answer's text rules; whole its judge and
	// schema rules.
	text, whole []*guardRule
	choices     []*guardChoice // by choice index
	err         error          // sticky: a block ended the stream
}

// guardChoice is the per-choice state of a guarded stream.
type guardChoice struct {
	scanners []*guard.Scanner // one per text rule
	restorer *guard.Restorer
	all      strings.Builder // the choice's text, for whole rules (bounded)
}

// maxGuardedText bounds the text a stream keeps for its judge and schema
// rules; past it they see the beginning only.
const maxGuardedText = 1 << 20

// newGuardStream wraps ex.Stream when a rule needs to see it; nil when
// none does.
func (gr *guardRun) newGuardStream(ctx context.Context, ex *Exchange) *guardStream {
	s := &guardStream{Stream: ex.Stream, gr: gr, ex: ex, ctx: ctx}
	for _, r := range gr.rules {
		switch {
		case !r.resp:
		case r.allow:
			s.whole = append(s.whole, r) // allow judges the whole text
		case r.textDetector():
			s.text = append(s.text, r)
			if r.rules != nil && r.action != guard.ActionRedact {
				// Again on the whole text at the finish: a phrase split
				// across chunks is missed by the scanner's look-behind.
				s.whole = append(s.whole, r)
			}
		case r.judge != nil || r.detector == "schema":
			s.whole = append(s.whole, r)
		}
	}
	if len(s.text) == 0 && len(s.whole) == 0 && !(gr.restore && gr.red != nil && gr.red.Len() > 0) {
		return nil
	}
	return s
}

// choice returns the state of choice i, made on first use.
func (s *guardStream) choice(i int) *guardChoice {
	if i < 0 || i > guardMaxChoice {
		i = guardMaxChoice // a bad index shares the last slot rather than growing without bound
	}
	for len(s.choices) <= i {
		s.choices = append(s.choices, nil)
	}
	c := s.choices[i]
	if c == nil {
		c = &guardChoice{}
		for _, r := range s.text {
			var red *guard.Redactor
			if r.action == guard.ActionRedact {
				if s.gr.respRed == nil {
					s.gr.respRed = guard.NewRedactor()
				}
				red = s.gr.respRed
			}
			c.scanners = append(c.scanners, guard.NewScanner(answerFind(r), r.hold, red))
		}
		if s.gr.restore && s.gr.red != nil && s.gr.red.Len() > 0 {
			c.restorer = s.gr.red.NewRestorer()
		}
		s.choices[i] = c
	}
	return c
}

// guardMaxChoice bounds the choices a guarded stream keeps state for.
const guardMaxChoice = 127

func (s *guardStream) Recv() (*llm.Chunk, error) {
	if s.err != nil {
		return nil, s.err
	}
	c, err := s.Stream.Recv()
	if err != nil {
		return c, err
	}
	for i := range c.Deltas {
		d := &c.Deltas[i]
		if d.Text == "" && d.FinishReason == "" {
			continue
		}
		gc := s.choice(d.Index)
		if len(s.whole) > 0 && gc.all.Len() < maxGuardedText {
			gc.all.WriteString(d.Text)
		}
		text, err := s.pass(gc, d.Text, d.FinishReason != "")
		if err == nil && d.FinishReason != "" {
			err = s.finish(gc)
		}
		if err != nil {
			s.err = err
			s.Stream.Close()
			return nil, err
		}
		d.Text = text
	}
	return c, nil
}

// pass sends a text fragment through a choice's scanners and restorer;
// end flushes them (the choice finished).
func (s *guardStream) pass(gc *guardChoice, text string, end bool) (string, error) {
	for k, sc := range gc.scanners {
		emit, found := sc.Push(text)
		if end {
			rest, more := sc.Flush()
			emit += rest
			found = append(found, more...)
		}
		if len(found) > 0 {
			r := s.text[k]
			if r.action == guard.ActionBlock || r.action == guard.ActionRedact && unboundedFinding(found, r.hold) {
				s.gr.note(r, guard.ActionBlock)
				return "", responseBlocked(r.id, kinds(found))
			}
			s.gr.note(r, r.action)
		}
		text = emit
	}
	if gc.restorer != nil {
		text = gc.restorer.Push(text)
		if end {
			text += gc.restorer.Flush()
		}
	}
	return text, nil
}

// finish runs the judge and schema rules on a finished choice's text.
func (s *guardStream) finish(gc *guardChoice) error {
	text := gc.all.String()
	for _, r := range s.whole {
		if r.rules != nil {
			if fs := r.rules.Find(nil, text); len(fs) > 0 {
				if r.action == guard.ActionBlock {
					s.gr.note(r, guard.ActionBlock)
					return responseBlocked(r.id, kinds(fs))
				}
				s.gr.note(r, guard.ActionFlag)
			}
			continue
		}
		if r.judge != nil {
			if err := s.gr.verdict(r, r.judge.CheckRole(s.ctx, judgeAnswerRole, text), responseBlocked); err != nil {
				return err
			}
			continue
		}
		sc := r.schema
		if sc == nil {
			var err error
			if sc, err = guard.SchemaFromRequest(s.ex.Request); err != nil || sc == nil {
				continue
			}
		}
		if sc.Validate(text) != nil {
			if r.action == guard.ActionFlag {
				s.gr.note(r, guard.ActionFlag)
				continue
			}
			s.gr.note(r, guard.ActionBlock)
			return responseBlocked(r.id, "schema")
		}
	}
	return nil
}

// unboundedFinding reports whether a finding in a stream may go on past
// what the scanner holds: a private key (its body spans lines) or one as
// long as the look-behind (a long JWT). Only its start could be redacted
// and the rest would leak as it arrives, so such an answer is blocked.
func unboundedFinding(fs []guard.Finding, hold int) bool {
	for _, f := range fs {
		if f.Kind == "private_key" || f.End-f.Start >= hold {
			return true
		}
	}
	return false
}
