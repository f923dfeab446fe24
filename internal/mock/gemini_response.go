package mock

import (
	"net/http"

	"github.com/sluicehq/sluice/internal/jsonw"
)

// geminiGenerate answers models/{model}:generateContent and, with stream,
// :streamGenerateContent: SSE with ?alt=sse, else Gemini's streamed JSON
// array. A stream has no end event: its last chunk carries finishReason
// and usageMetadata.
func (x *exchange) geminiGenerate(model string, stream bool) {
	c, param, msg := geminiConvo(x.body, model)
	if msg != "" {
		x.fail(http.StatusBadRequest, "", param, msg)
		return
	}
	x.s.models.add(c.model)
	a := x.decide(&c)
	x.cacheAutomatic(&c, &a)
	if !stream {
		b := getBuf()
		defer putBuf(b)
		buf := x.appendGeminiChunk(*b, &c, &a, a.text, true)
		*b = buf
		writeJSON(x.w, http.StatusOK, buf, x.drop)
		return
	}
	frags := []string{""} // a function call comes whole, as from the real API
	if a.toolName == "" {
		frags = pieces(a.text, x.s.chunks)
	}
	sw := x.stream(x.r.URL.Query().Get("alt") != "sse", len(frags)/2)
	defer sw.close()
	for i, f := range frags {
		sw.send(x.appendGeminiChunk(sw.begin(""), &c, &a, f, i == len(frags)-1))
	}
}

// appendGeminiChunk appends a GenerateContentResponse holding text (or a's
// function call); the final one has the finish reason and usage.
func (x *exchange) appendGeminiChunk(b []byte, c *convo, a *answer, text string, final bool) []byte {
	if a.finish == finishFilter {
		// Filtered before any output: no content, the safety finish and
		// the rating that blocked it, as Gemini answers.
		b = append(b, `{"candidates":[{"finishReason":"SAFETY","index":0,"safetyRatings":[`+
			`{"category":"HARM_CATEGORY_DANGEROUS_CONTENT","probability":"HIGH","blocked":true}]}]`...)
		return x.appendGeminiTail(b, c, a)
	}
	b = append(b, `{"candidates":[{"content":{"parts":[`...)
	if a.toolName != "" {
		b = append(b, `{"functionCall":{"name":`...)
		b = jsonw.AppendString(b, a.toolName)
		b = append(b, `,"args":`...)
		b = append(b, a.toolArgs...)
		b = append(b, "}}"...)
	} else {
		b = append(b, `{"text":`...)
		b = jsonw.AppendString(b, text)
		b = append(b, '}')
	}
	b = append(b, `],"role":"model"}`...)
	if final {
		b = append(b, `,"finishReason":`...)
		if a.finish == finishLength {
			b = append(b, `"MAX_TOKENS"`...)
		} else {
			b = append(b, `"STOP"`...)
		}
	}
	b = append(b, `,"index":0}]`...)
	if !final {
		return x.appendGeminiEnd(b, c)
	}
	return x.appendGeminiTail(b, c, a)
}

// appendGeminiTail appends the usageMetadata of a final chunk and the
// answer's closing fields.
func (x *exchange) appendGeminiTail(b []byte, c *convo, a *answer) []byte {
	b = append(b, `,"usageMetadata":{"promptTokenCount":`...)
	b = jsonw.AppendInt(b, int64(a.promptTokens))
	b = append(b, `,"candidatesTokenCount":`...)
	b = jsonw.AppendInt(b, int64(a.completionTokens))
	b = append(b, `,"totalTokenCount":`...)
	b = jsonw.AppendInt(b, int64(a.promptTokens+a.completionTokens))
	if a.cacheRead > 0 { // Gemini omits zero counts
		b = append(b, `,"cachedContentTokenCount":`...)
		b = jsonw.AppendInt(b, int64(a.cacheRead))
	}
	b = append(b, `,"promptTokensDetails":[{"modality":"TEXT","tokenCount":`...)
	b = jsonw.AppendInt(b, int64(a.promptTokens))
	b = append(b, `}]`...)
	if a.cacheRead > 0 {
		b = append(b, `,"cacheTokensDetails":[{"modality":"TEXT","tokenCount":`...)
		b = jsonw.AppendInt(b, int64(a.cacheRead))
		b = append(b, `}]`...)
	}
	return x.appendGeminiEnd(append(b, '}'), c)
}

// appendGeminiEnd appends modelVersion and responseId, closing the
// answer.
func (x *exchange) appendGeminiEnd(b []byte, c *convo) []byte {
	b = append(b, `,"modelVersion":`...)
	b = jsonw.AppendString(b, c.model)
	b = append(b, `,"responseId":`...)
	b = appendID(b, "mock-", x.seq)
	return append(b, '}')
}

// geminiCountTokens answers models/{model}:countTokens with the prompt
// token count a generateContent call would report.
func (x *exchange) geminiCountTokens(model string) {
	c, param, msg := geminiConvo(x.body, model)
	if msg != "" {
		x.fail(http.StatusBadRequest, "", param, msg)
		return
	}
	n := c.promptTokens()
	b := getBuf()
	defer putBuf(b)
	buf := append(*b, `{"totalTokens":`...)
	buf = jsonw.AppendInt(buf, int64(n))
	buf = append(buf, `,"promptTokensDetails":[{"modality":"TEXT","tokenCount":`...)
	buf = jsonw.AppendInt(buf, int64(n))
	*b = append(buf, `}]}`...)
	writeJSON(x.w, http.StatusOK, *b, x.drop)
}
