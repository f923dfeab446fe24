package openai

import (
	"encoding/json"
	"fmt"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
)

// EncodeModelList encodes models as OpenAI's list:
// {"object":"list","data":[{"id","object":"model","created","owned_by"},…]}.
// A nil or empty list gives "data":[].
func EncodeModelList(models []llm.Model) ([]byte, error) {
	dst := make([]byte, 0, 32+len(models)*96)
	dst = append(dst, `{"object":"list","data":[`...)
	for i := range models {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendModel(dst, &models[i])
	}
	return append(dst, "]}"...), nil
}

// EncodeModel encodes one model object.
func EncodeModel(m llm.Model) ([]byte, error) {
	return appendModel(make([]byte, 0, 96), &m), nil
}

func appendModel(dst []byte, m *llm.Model) []byte {
	dst = append(dst, `{"id":`...)
	dst = jsonw.AppendString(dst, m.ID)
	dst = append(dst, `,"object":"model","created":`...)
	dst = jsonw.AppendInt(dst, m.Created)
	dst = append(dst, `,"owned_by":`...)
	dst = jsonw.AppendString(dst, m.OwnedBy)
	return append(dst, '}')
}

// DecodeModelList decodes an upstream's GET /models answer. Errors are
// *llm.Error values (Provider empty).
func DecodeModelList(body []byte) ([]llm.Model, error) {
	var w struct {
		Data []struct {
			ID      string   `json:"id"`
			Created unixTime `json:"created"`
			OwnedBy string   `json:"owned_by"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, invalidResponse(err)
	}
	if w.Data == nil {
		return nil, invalidResponse(fmt.Errorf("openai: model list has no data"))
	}
	models := make([]llm.Model, 0, len(w.Data))
	for _, d := range w.Data {
		if d.ID != "" {
			models = append(models, llm.Model{ID: d.ID, Created: int64(d.Created), OwnedBy: d.OwnedBy})
		}
	}
	return models, nil
}
