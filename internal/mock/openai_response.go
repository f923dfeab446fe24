package mock

import (
	"net/http"

	"github.com/sluicehq/sluice/internal/jsonw"
)

// openAIChat answers POST /v1/chat/completions and Azure's deployment
// equivalent (deployment non-empty).
func (x *exchange) openAIChat(deployment string) {
	if deployment != "" && x.r.URL.Query().Get("api-version") == "" {
		x.fail(http.StatusBadRequest, "", "api-version", "missing required query parameter api-version")
		return
	}
	c, param, msg := openAIConvo(x.body, deployment)
	if msg != "" {
		x.fail(http.StatusBadRequest, "", param, msg)
		return
	}
	x.s.models.add(c.model)
	a := x.decide(&c)
	x.cacheAutomatic(&c, &a)
	if c.stream {
		x.openAIStream(&c, &a)
		return
	}
	b := getBuf()
	defer putBuf(b)
	buf := x.appendOpenAIHead(*b, "chat.completion", c.model)
	buf = append(buf, `,"choices":[{"index":0,"message":{"role":"assistant","content":`...)
	if a.toolName != "" {
		buf = append(buf, `null,"tool_calls":[{"id":`...)
		buf = appendID(buf, "call_mock_", x.seq)
		buf = append(buf, `,"type":"function","function":{"name":`...)
		buf = jsonw.AppendString(buf, a.toolName)
		buf = append(buf, `,"arguments":`...)
		buf = jsonw.AppendString(buf, a.toolArgs)
		buf = append(buf, `}}]`...)
	} else {
		buf = jsonw.AppendString(buf, a.text)
	}
	buf = append(buf, `,"refusal":null,"annotations":[]},"logprobs":null,"finish_reason":`...)
	buf = jsonw.AppendString(buf, openAIFinish(a.finish))
	buf = append(buf, `}],"usage":`...)
	buf = appendOpenAIUsage(buf, &a)
	buf = append(buf, `,"service_tier":"default","system_fingerprint":"fp_mock"}`...)
	*b = buf
	writeJSON(x.w, http.StatusOK, buf, x.drop)
}

// openAIStream streams a chat answer: a role chunk, content (or tool-call
// argument) fragments, a chunk with the finish reason, the usage chunk when
// asked for, and [DONE].
func (x *exchange) openAIStream(c *convo, a *answer) {
	var frags []string
	if a.toolName != "" {
		frags = pieces(a.toolArgs, max(x.s.chunks, 2))
	} else {
		frags = pieces(a.text, x.s.chunks)
	}
	sw := x.stream(false, 1+(len(frags)+1)/2)
	defer sw.close()

	// Every chunk starts the same way.
	pb := getBuf()
	defer putBuf(pb)
	prefix := x.appendOpenAIHead(*pb, "chat.completion.chunk", c.model)
	prefix = append(prefix, `,"service_tier":"default","system_fingerprint":"fp_mock","choices":[`...)
	*pb = prefix
	chunkEnd := `,"logprobs":null,"finish_reason":null}]}`
	if c.includeUsage {
		chunkEnd = `,"logprobs":null,"finish_reason":null}],"usage":null}`
	}

	if a.finish == finishFilter {
		// Filtered before any output: one chunk with the role and the
		// finish.
		b := append(sw.begin(""), prefix...)
		b = append(b, `{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":"content_filter"}]`...)
		if c.includeUsage {
			b = append(b, `,"usage":null`...)
		}
		sw.send(append(b, '}'))
		x.openAIStreamEnd(sw, c, a, prefix)
		return
	}

	b := append(sw.begin(""), prefix...)
	b = append(b, `{"index":0,"delta":{"role":"assistant","content":`...)
	if a.toolName != "" {
		b = append(b, `null,"tool_calls":[{"index":0,"id":`...)
		b = appendID(b, "call_mock_", x.seq)
		b = append(b, `,"type":"function","function":{"name":`...)
		b = jsonw.AppendString(b, a.toolName)
		b = append(b, `,"arguments":""}}]`...)
	} else {
		b = append(b, `""`...)
	}
	b = append(b, `,"refusal":null}`...)
	sw.send(append(b, chunkEnd...))

	for _, f := range frags {
		b = append(sw.begin(""), prefix...)
		if a.toolName != "" {
			b = append(b, `{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":`...)
			b = jsonw.AppendString(b, f)
			b = append(b, `}}]}`...)
		} else {
			b = append(b, `{"index":0,"delta":{"content":`...)
			b = jsonw.AppendString(b, f)
			b = append(b, '}')
		}
		sw.send(append(b, chunkEnd...))
	}

	b = append(sw.begin(""), prefix...)
	b = append(b, `{"index":0,"delta":{},"logprobs":null,"finish_reason":`...)
	b = jsonw.AppendString(b, openAIFinish(a.finish))
	b = append(b, "}]"...)
	if c.includeUsage {
		b = append(b, `,"usage":null`...)
	}
	sw.send(append(b, '}'))
	x.openAIStreamEnd(sw, c, a, prefix)
}

// openAIStreamEnd sends the usage chunk when asked for, and [DONE].
func (x *exchange) openAIStreamEnd(sw *streamWriter, c *convo, a *answer, prefix []byte) {
	if c.includeUsage {
		b := append(sw.begin(""), prefix[:len(prefix)-len(`[`)]...)
		b = append(b, `[],"usage":`...)
		b = appendOpenAIUsage(b, a)
		sw.send(append(b, '}'))
	}
	sw.sendRaw("[DONE]")
}

// appendOpenAIHead appends the fields every chat answer and chunk starts
// with, leaving the object open.
func (x *exchange) appendOpenAIHead(b []byte, object, model string) []byte {
	b = append(b, `{"id":`...)
	b = appendID(b, "chatcmpl-mock-", x.seq)
	b = append(b, `,"object":"`...)
	b = append(b, object...)
	b = append(b, `","created":`...)
	b = jsonw.AppendInt(b, x.s.now().Unix())
	b = append(b, `,"model":`...)
	return jsonw.AppendString(b, model)
}

// appendOpenAIUsage appends an OpenAI usage object, with the detail
// objects real answers carry. prompt_tokens includes the cached tokens.
func appendOpenAIUsage(b []byte, a *answer) []byte {
	b = append(b, `{"prompt_tokens":`...)
	b = jsonw.AppendInt(b, int64(a.promptTokens))
	b = append(b, `,"completion_tokens":`...)
	b = jsonw.AppendInt(b, int64(a.completionTokens))
	b = append(b, `,"total_tokens":`...)
	b = jsonw.AppendInt(b, int64(a.promptTokens+a.completionTokens))
	b = append(b, `,"prompt_tokens_details":{"cached_tokens":`...)
	b = jsonw.AppendInt(b, int64(a.cacheRead))
	return append(b, `,"audio_tokens":0},`+
		`"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,`+
		`"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}`...)
}

func openAIFinish(f finish) string {
	switch f {
	case finishLength:
		return "length"
	case finishTool:
		return "tool_calls"
	case finishFilter:
		return "content_filter"
	}
	return "stop"
}
