package gateway

import (
	"net/http"

	anthcodec "github.com/sluicehq/sluice/internal/codec/anthropic"
	"github.com/sluicehq/sluice/internal/llm"
)

// handleMessages serves POST /v1/messages in Anthropic's Messages format,
// whatever provider answers, so Anthropic SDK users reach every model.
func (g *Gateway) handleMessages(w http.ResponseWriter, r *http.Request) {
	buf, err := readBody(r)
	if err != nil {
		writeError(w, r, formatAnthropic, err)
		return
	}
	req, err := anthcodec.DecodeMessagesRequest(buf.Bytes())
	putBody(buf)
	if err != nil {
		writeError(w, r, formatAnthropic, err)
		return
	}
	if beta := r.Header.Get("Anthropic-Beta"); beta != "" {
		req.Headers = map[string]string{"anthropic-beta": beta}
	}
	ex, ok := g.runChat(w, r, req, formatAnthropic)
	if !ok {
		return
	}
	if ex.Stream != nil {
		pumpStream(w, r, ex, &anthropicStream{anthcodec.NewStreamEncoder(req.Model)})
		infoFrom(r.Context()).usage = ex.Usage
		return
	}
	body, err := anthcodec.EncodeMessagesResponse(ex.Response)
	if err != nil {
		writeError(w, r, formatAnthropic, err)
		return
	}
	setAnswerHeaders(w.Header(), ex)
	writeJSON(w, http.StatusOK, body)
}

// anthropicStream adapts the Anthropic stream encoder to streamEncoder.
type anthropicStream struct{ *anthcodec.StreamEncoder }

func (s *anthropicStream) AppendError(dst []byte, e *llm.Error) []byte {
	return anthcodec.AppendStreamError(dst, e)
}
