package gateway

import (
	"net/http"
	"time"

	oaicodec "github.com/sluicehq/sluice/internal/codec/openai"
	"github.com/sluicehq/sluice/internal/llm"
)

// handleChat serves POST /v1/chat/completions in OpenAI's format.
func (g *Gateway) handleChat(w http.ResponseWriter, r *http.Request) {
	buf, err := readBody(r)
	if err != nil {
		writeError(w, r, formatOpenAI, err)
		return
	}
	var req *llm.Request
	if err = g.readControls(r, buf.Bytes()); err == nil {
		req, err = oaicodec.DecodeChatRequest(buf.Bytes())
	}
	putBody(buf)
	if err != nil {
		writeError(w, r, formatOpenAI, err)
		return
	}
	ex, ok := g.runChat(w, r, req, formatOpenAI)
	if !ok {
		return
	}
	if ex.Stream != nil {
		g.pump(w, r, ex, &openAIStream{oaicodec.NewStreamEncoder(req.IncludeUsage)})
		settle(r, ex)
		return
	}
	body, err := oaicodec.EncodeChatResponse(ex.Response)
	if err != nil {
		writeError(w, r, formatOpenAI, err)
		return
	}
	writeAnswer(w, r, ex, body)
	settle(r, ex) // after the answer went out: counting may take a while
}

// runChat sends a decoded chat request through the pipeline. On failure it
// writes the error in format f and returns false.
func (g *Gateway) runChat(w http.ResponseWriter, r *http.Request, req *llm.Request, f format) (*Exchange, bool) {
	ex := &Exchange{Op: OpChat, Request: req}
	infoFrom(r.Context()).stream = req.Stream
	return ex, g.run(w, r, ex, req.Model, f)
}

// run sends an exchange through the pipeline and notes the outcome for the
// access log. On failure it writes the error in format f and returns false.
func (g *Gateway) run(w http.ResponseWriter, r *http.Request, ex *Exchange, model string, f format) bool {
	ri := infoFrom(r.Context())
	ri.model = model
	ex.ID, ex.Start, ex.Header = ri.id, time.Now(), r.Header
	err := checkModel(ri.principal, model)
	if err == nil {
		err = g.pipe.Serve(r.Context(), ex)
	}
	if ex.Target.Provider != nil {
		ri.provider, ri.upstream = ex.Target.Provider.Name(), ex.Target.Model
	}
	ri.attempts, ri.usage, ri.firstByte = ex.Attempts, ex.Usage, ex.FirstByte
	if err != nil {
		if ex.Stream != nil {
			// A stage after dispatch refused the answer: release the
			// upstream connection.
			ex.Stream.Close()
		}
		writeError(w, r, f, err)
		return false
	}
	return true
}

// settle makes the exchange's usage final (counting tokens where the
// provider reported none) and notes it for the record.
func settle(r *http.Request, ex *Exchange) {
	settleUsage(ex)
	ri := infoFrom(r.Context())
	ri.usage, ri.estimated = ex.Usage, ex.Estimated
}

// writeAnswer sends a whole answer.
func writeAnswer(w http.ResponseWriter, r *http.Request, ex *Exchange, body []byte) {
	setAnswerHeaders(w.Header(), ex)
	infoFrom(r.Context()).captureResponse(body)
	writeJSON(w, http.StatusOK, body)
}

// openAIStream adapts the OpenAI stream encoder to streamEncoder.
type openAIStream struct{ *oaicodec.StreamEncoder }

func (s *openAIStream) AppendEnd(dst []byte) []byte { return s.AppendDone(dst) }

func (s *openAIStream) AppendError(dst []byte, e *llm.Error) []byte {
	return oaicodec.AppendStreamError(dst, e)
}
