package mock

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// geminiEmbedRequest is one EmbedContentRequest.
type geminiEmbedRequest struct {
	Model                string        `json:"model"`
	Content              geminiContent `json:"content"`
	OutputDimensionality *int          `json:"outputDimensionality"`
}

// geminiEmbed answers models/{model}:embedContent and, with batch,
// :batchEmbedContents, whose requests must each name the same model as the
// path ("models/{model}"), as the real API demands.
func (x *exchange) geminiEmbed(model string, batch bool) {
	var reqs []geminiEmbedRequest
	var err error
	if batch {
		var req struct {
			Requests []geminiEmbedRequest `json:"requests"`
		}
		err = json.Unmarshal(x.body, &req)
		reqs = req.Requests
	} else {
		reqs = make([]geminiEmbedRequest, 1)
		err = json.Unmarshal(x.body, &reqs[0])
	}
	if err != nil {
		x.fail(http.StatusBadRequest, "", "", "Invalid JSON payload received. "+err.Error())
		return
	}
	switch {
	case len(reqs) == 0:
		x.fail(http.StatusBadRequest, "", "requests", "* BatchEmbedContentsRequest.requests: requests is not specified")
		return
	case len(reqs) > maxEmbedInputs:
		x.fail(http.StatusBadRequest, "", "requests", "at most "+strconv.Itoa(maxEmbedInputs)+" requests are allowed per batch")
		return
	}
	inputs := make([]embedInput, len(reqs))
	dims := make([]int, len(reqs))
	for i := range reqs {
		r := &reqs[i]
		where := "content"
		if batch {
			where = "requests[" + strconv.Itoa(i) + "]"
			if r.Model != "models/"+model {
				x.fail(http.StatusBadRequest, "", where+".model",
					"* BatchEmbedContentsRequest."+where+".model: model must be "+strconv.Quote("models/"+model))
				return
			}
			where += ".content"
		}
		if len(r.Content.Parts) == 0 {
			x.fail(http.StatusBadRequest, "", where, "* EmbedContentRequest.content: contents is not specified")
			return
		}
		inputs[i].text = r.Content.scan().text
		d, ok := dimensions(r.OutputDimensionality)
		if !ok {
			x.fail(http.StatusBadRequest, "", "outputDimensionality",
				"outputDimensionality must be between 1 and "+strconv.Itoa(maxDimensions))
			return
		}
		dims[i] = d
	}
	x.s.models.add(model)

	b := getBuf()
	defer putBuf(b)
	buf := *b
	if batch {
		buf = append(buf, `{"embeddings":[`...)
	} else {
		buf = append(buf, `{"embedding":`...)
	}
	for i := range inputs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"values":`...)
		buf = inputs[i].appendVector(buf, dims[i], false, nil)
		buf = append(buf, '}')
	}
	if batch {
		buf = append(buf, ']')
	}
	*b = append(buf, '}')
	writeJSON(x.w, http.StatusOK, *b, x.drop)
}
