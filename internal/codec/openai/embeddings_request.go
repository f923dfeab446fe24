package openai

import (
	"encoding/json"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
)

type embeddingsRequestWire struct {
	Model          string         `json:"model"`
	Input          embeddingInput `json:"input"`
	EncodingFormat string         `json:"encoding_format"`
	Dimensions     *int           `json:"dimensions"`
	User           string         `json:"user"`
}

var embeddingsKeys = []string{"model", "input", "encoding_format", "dimensions", "user"}

func knownEmbeddingsKey(k string) bool {
	switch k {
	case "model", "input", "encoding_format", "dimensions", "user":
		return true
	}
	return false
}

// embeddingInput is a string, an array of strings, an array of token ids,
// or an array of arrays of token ids.
type embeddingInput struct {
	present bool
	items   []llm.EmbeddingInput
}

func (in *embeddingInput) UnmarshalJSON(b []byte) error {
	switch b[0] {
	case 'n':
		return nil
	case '"':
		in.present = true
		text, err := jsonw.Unquote(b)
		in.items = []llm.EmbeddingInput{{Text: text}}
		return err
	case '[':
	default:
		return typeError(b, inputType)
	}
	in.present = true
	switch first := jsonw.SkipSpace(b, 1); {
	case first >= len(b) || b[first] == ']':
		return nil
	case b[first] == '"':
		var texts []string
		if err := json.Unmarshal(b, &texts); err != nil {
			return err
		}
		in.items = make([]llm.EmbeddingInput, len(texts))
		for i, t := range texts {
			in.items[i].Text = t
		}
	case b[first] == '[':
		var tokens [][]int
		if err := json.Unmarshal(b, &tokens); err != nil {
			return err
		}
		in.items = make([]llm.EmbeddingInput, len(tokens))
		for i, t := range tokens {
			in.items[i].Tokens = t
		}
	default:
		var tokens []int
		if err := json.Unmarshal(b, &tokens); err != nil {
			return err
		}
		in.items = []llm.EmbeddingInput{{Tokens: tokens}}
	}
	return nil
}

// DecodeEmbeddingsRequest decodes an Embeddings request body. Unknown
// top-level members go to Extra and Format is "openai", as for chat. It
// keeps no reference to body. Errors are *llm.Error 400s naming the
// parameter.
func DecodeEmbeddingsRequest(body []byte) (*llm.EmbeddingsRequest, error) {
	if e := checkBody(body); e != nil {
		return nil, e
	}
	var w embeddingsRequestWire
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, decodeError(body, err)
	}
	extra, err := collectExtra(body, embeddingsKeys)
	if err != nil {
		return nil, err
	}
	if w.Model == "" {
		return nil, missing("model")
	}
	if !w.Input.present {
		return nil, missing("input")
	}
	if len(w.Input.items) == 0 {
		return nil, invalidValue("input", "expected at least one input, got an empty array")
	}
	for i, in := range w.Input.items {
		if in.Text == "" && len(in.Tokens) == 0 {
			param := "input"
			if len(w.Input.items) > 1 {
				param = "input[" + itoa(i) + "]"
			}
			return nil, invalidValue(param, "an input must not be empty")
		}
	}
	switch w.EncodingFormat {
	case "", "float", "base64":
	default:
		return nil, invalidValue("encoding_format", "expected \"float\" or \"base64\", got %q", w.EncodingFormat)
	}
	if e := checkMin("dimensions", w.Dimensions, 1); e != nil {
		return nil, e
	}
	return &llm.EmbeddingsRequest{Model: w.Model, Inputs: w.Input.items, EncodingFormat: w.EncodingFormat,
		Dimensions: w.Dimensions, User: w.User, Extra: extra, Format: FormatName}, nil
}

// EncodeEmbeddingsRequest encodes req for an upstream. Extra members pass
// only from an OpenAI-format client (llm.Unsupported otherwise), and text
// and token inputs cannot be mixed in one request.
func EncodeEmbeddingsRequest(req *llm.EmbeddingsRequest, opt EncodeOptions) ([]byte, error) {
	if req.Format != FormatName && len(req.Extra) > 0 {
		return nil, llm.Unsupported(opt.Provider, firstKey(req.Extra))
	}
	tokens, size := 0, 128+len(req.Model)
	for i := range req.Inputs {
		if req.Inputs[i].Tokens != nil {
			tokens++
		}
		size += 4 + len(req.Inputs[i].Text) + 7*len(req.Inputs[i].Tokens)
	}
	if tokens > 0 && tokens < len(req.Inputs) {
		return nil, llm.BadRequest("input", "text and token inputs cannot be mixed in one request")
	}
	dst := make([]byte, 0, size)
	dst = append(dst, `{"model":`...)
	dst = jsonw.AppendString(dst, req.Model)
	dst = append(dst, `,"input":`...)
	switch {
	case tokens == 0 && len(req.Inputs) == 1:
		dst = jsonw.AppendString(dst, req.Inputs[0].Text)
	case tokens == 0:
		dst = append(dst, '[')
		for i := range req.Inputs {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonw.AppendString(dst, req.Inputs[i].Text)
		}
		dst = append(dst, ']')
	case len(req.Inputs) == 1:
		dst = appendInts(dst, req.Inputs[0].Tokens)
	default:
		dst = append(dst, '[')
		for i := range req.Inputs {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendInts(dst, req.Inputs[i].Tokens)
		}
		dst = append(dst, ']')
	}
	if req.EncodingFormat != "" {
		dst = append(dst, `,"encoding_format":`...)
		dst = jsonw.AppendString(dst, req.EncodingFormat)
	}
	if req.Dimensions != nil {
		dst = append(dst, `,"dimensions":`...)
		dst = jsonw.AppendInt(dst, int64(*req.Dimensions))
	}
	if req.User != "" {
		dst = append(dst, `,"user":`...)
		dst = jsonw.AppendString(dst, req.User)
	}
	if len(req.Extra) > 0 {
		for _, k := range sortedKeys(req.Extra) {
			if knownEmbeddingsKey(k) {
				continue
			}
			dst = append(dst, ',')
			dst = jsonw.AppendString(dst, k)
			dst = append(dst, ':')
			dst = jsonw.AppendRaw(dst, req.Extra[k])
		}
	}
	return append(dst, '}'), nil
}

func appendInts(dst []byte, ns []int) []byte {
	dst = append(dst, '[')
	for i, n := range ns {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonw.AppendInt(dst, int64(n))
	}
	return append(dst, ']')
}

func itoa(n int) string { return string(jsonw.AppendInt(nil, int64(n))) }
