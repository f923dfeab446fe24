package mock

import (
	"net/http"
	"strings"

	"github.com/sluicehq/sluice/internal/jsonw"
)

// modelCreated is the fixed creation time the model lists report
// (2024-01-01T00:00:00Z), so that lists are deterministic.
const (
	modelCreated   = 1704067200
	modelCreatedAt = "2024-01-01T00:00:00Z"
)

// listModels answers GET /v1/models (OpenAI's shape, or Anthropic's when
// the request has an anthropic-version header) and GET /v1beta/models
// (Gemini's): the default models followed by every other model requested
// so far.
func (x *exchange) listModels() {
	names := x.s.models.list()
	b := getBuf()
	defer putBuf(b)
	buf := *b
	switch x.api {
	case apiAnthropic:
		buf = append(buf, `{"data":[`...)
	case apiGemini:
		buf = append(buf, `{"models":[`...)
	default:
		buf = append(buf, `{"object":"list","data":[`...)
	}
	for i, name := range names {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = x.appendModel(buf, name)
	}
	buf = append(buf, ']')
	if x.api == apiAnthropic {
		buf = append(buf, `,"has_more":false,"first_id":`...)
		buf = jsonw.AppendString(buf, names[0])
		buf = append(buf, `,"last_id":`...)
		buf = jsonw.AppendString(buf, names[len(names)-1])
	}
	*b = append(buf, '}')
	writeJSON(x.w, http.StatusOK, *b, x.drop)
}

// getModel answers GET /v1/models/{id} and GET /v1beta/models/{id}: a model
// object for a listed model, 404 for any other.
func (x *exchange) getModel(id string) {
	if !x.s.models.has(id) {
		x.fail(http.StatusNotFound, "model_not_found", "model", "The model '"+id+"' does not exist")
		return
	}
	b := getBuf()
	defer putBuf(b)
	*b = x.appendModel(*b, id)
	writeJSON(x.w, http.StatusOK, *b, x.drop)
}

// appendModel appends one model object in the shape of x's API.
func (x *exchange) appendModel(b []byte, name string) []byte {
	switch x.api {
	case apiAnthropic:
		b = append(b, `{"type":"model","id":`...)
		b = jsonw.AppendString(b, name)
		b = append(b, `,"display_name":`...)
		b = jsonw.AppendString(b, name)
		return append(b, `,"created_at":"`+modelCreatedAt+`"}`...)
	case apiGemini:
		b = append(b, `{"name":`...)
		b = jsonw.AppendString(b, "models/"+name)
		b = append(b, `,"version":"001","displayName":`...)
		b = jsonw.AppendString(b, name)
		b = append(b, `,"description":"Sluice mock model","inputTokenLimit":1048576,"outputTokenLimit":65536,`+
			`"supportedGenerationMethods":`...)
		if strings.Contains(name, "embed") {
			return append(b, `["embedContent","batchEmbedContents"]}`...)
		}
		return append(b, `["generateContent","streamGenerateContent","countTokens"]}`...)
	}
	b = append(b, `{"id":`...)
	b = jsonw.AppendString(b, name)
	b = append(b, `,"object":"model","created":`...)
	b = jsonw.AppendInt(b, modelCreated)
	return append(b, `,"owned_by":"sluice-mock"}`...)
}
