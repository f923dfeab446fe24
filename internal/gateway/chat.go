package gateway

import (
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	oaicodec "github.com/sluicehq/sluice/internal/codec/openai"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/router"
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
	out := answerPool.Get().(*[]byte)
	*out = oaicodec.AppendChatResponse((*out)[:0], ex.Response)
	writeAnswer(w, r, ex, *out)
	putAnswer(out)
	settle(r, ex) // after the answer went out: counting may take a while
}

// answerPool holds the buffers whole answers are encoded into; an answer
// is written (copied out) before its buffer goes back.
var answerPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func putAnswer(buf *[]byte) {
	if cap(*buf) <= 1<<20 { // keep huge buffers from pinning memory
		answerPool.Put(buf)
	}
}

// runChat sends a decoded chat request through the pipeline. On failure it
// writes the error in format f and returns false.
func (g *Gateway) runChat(w http.ResponseWriter, r *http.Request, req *llm.Request, f format) (*Exchange, bool) {
	ri := infoFrom(r.Context())
	ex := ri.newExchange()
	ex.Op, ex.Request = OpChat, req
	ri.stream = req.Stream
	return ex, g.run(w, r, ex, req.Model, f)
}

// run sends an exchange through the pipeline and notes the outcome for the
// access log. On failure it writes the error in format f and returns false.
func (g *Gateway) run(w http.ResponseWriter, r *http.Request, ex *Exchange, model string, f format) bool {
	ri := infoFrom(r.Context())
	ri.model = model
	ex.ID, ex.Start, ex.Header = ri.id, time.Now(), r.Header
	ex.ClientIP = clientIP(r)
	// One check of the name for chat, messages and embeddings, before any
	// stage keys state or labels by it.
	err := router.CheckModelName(model)
	if err != nil {
		ri.model = truncateModel(model)
	} else {
		err = checkModel(ri.principal, model)
	}
	if err == nil {
		err = g.pipe.Serve(r.Context(), ex)
	}
	g.limitHeaders(r.Context(), w.Header(), ex, err != nil, f) // before any byte of the answer or error
	setBudgetHeaders(w.Header(), ex)
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
		setAnswerHeaders(w.Header(), ri, ex) // which targets failed, on errors too
		writeError(w, r, f, err)
		return false
	}
	return true
}

// truncateModel cuts a refused, over-long model name to router.MaxModelName
// bytes (on a rune boundary) for the access log and request record.
func truncateModel(model string) string {
	if len(model) <= router.MaxModelName {
		return model
	}
	n := router.MaxModelName
	for n > 0 && !utf8.RuneStart(model[n]) {
		n--
	}
	return model[:n]
}

// settle makes the exchange's usage final (counting tokens where the
// provider reported none) and notes it for the record.
func settle(r *http.Request, ex *Exchange) {
	settleUsage(ex)
	ex.limits.settle(ex) // token limits: the estimate becomes the real count
	ri := infoFrom(r.Context())
	ri.usage, ri.estimated = ex.Usage, ex.Estimated
}

// writeAnswer sends a whole answer.
func writeAnswer(w http.ResponseWriter, r *http.Request, ex *Exchange, body []byte) {
	ri := infoFrom(r.Context())
	h := w.Header()
	setAnswerHeaders(h, ri, ex)
	ri.captureResponse(body)
	h["Content-Type"] = jsonContentType
	h["Date"] = httpDate(time.Now())
	ri.setHeader(h, "Content-Length", hdrContentLength, strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body) //nolint:errcheck // the client may be gone; nothing to do
}

// openAIStream adapts the OpenAI stream encoder to streamEncoder.
type openAIStream struct{ *oaicodec.StreamEncoder }

func (s *openAIStream) AppendEnd(dst []byte) []byte { return s.AppendDone(dst) }

func (s *openAIStream) AppendError(dst []byte, e *llm.Error) []byte {
	return oaicodec.AppendStreamError(dst, e)
}
