package gateway

import (
	"net/http"

	oaicodec "github.com/sluicehq/sluice/internal/codec/openai"
	"github.com/sluicehq/sluice/internal/llm"
)

// handleEmbeddings serves POST /v1/embeddings in OpenAI's format.
func (g *Gateway) handleEmbeddings(w http.ResponseWriter, r *http.Request) {
	buf, err := readBody(r)
	if err != nil {
		writeError(w, r, formatOpenAI, err)
		return
	}
	var req *llm.EmbeddingsRequest
	if err = g.readControls(r, buf.Bytes()); err == nil {
		req, err = oaicodec.DecodeEmbeddingsRequest(buf.Bytes())
	}
	putBody(buf)
	if err != nil {
		writeError(w, r, formatOpenAI, err)
		return
	}
	ex := infoFrom(r.Context()).newExchange()
	ex.Op, ex.Embeddings = OpEmbeddings, req
	if !g.run(w, r, ex, req.Model, formatOpenAI) {
		return
	}
	if req.EncodingFormat == "base64" {
		oaicodec.EncodeVectorsBase64(ex.EmbeddingsResponse)
	}
	body, err := oaicodec.EncodeEmbeddingsResponse(ex.EmbeddingsResponse)
	if err != nil {
		writeError(w, r, formatOpenAI, err)
		return
	}
	writeAnswer(w, r, ex, body)
	settle(r, ex) // after the answer went out: counting may take a while
}
