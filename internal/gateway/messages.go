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
	var req *llm.Request
	if err = g.readControls(r, buf.Bytes()); err == nil {
		req, err = anthcodec.DecodeMessagesRequest(buf.Bytes())
	}
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
		g.pump(w, r, ex, &anthropicStream{anthcodec.NewStreamEncoder(req.Model)})
		settle(r, ex)
		return
	}
	body, err := anthcodec.EncodeMessagesResponse(ex.Response)
	if err != nil {
		writeError(w, r, formatAnthropic, err)
		return
	}
	writeAnswer(w, r, ex, body)
	settle(r, ex) // after the answer went out: counting may take a while
}

// anthropicStream adapts the Anthropic stream encoder to streamEncoder.
type anthropicStream struct{ *anthcodec.StreamEncoder }

func (s *anthropicStream) AppendError(dst []byte, e *llm.Error) []byte {
	return anthcodec.AppendStreamError(dst, e)
}
