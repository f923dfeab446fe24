package mock

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/jsonw"
)

// Embedding sizes: vectors have defaultDimensions floats unless the request
// asks for another size, up to maxDimensions.
const (
	defaultDimensions = 8
	maxDimensions     = 4096
	maxEmbedInputs    = 2048
)

// embedInput is one input to embed: a text or a token array.
type embedInput struct {
	text   string
	tokens []int
}

// tokens is the input's token count: ⌈runes/4⌉ for text, its length for a
// token array.
func (in *embedInput) tokenCount() int {
	if in.tokens != nil {
		return len(in.tokens)
	}
	return ceilDiv4(utf8.RuneCountInString(in.text))
}

// seed hashes the input with 64-bit FNV-1a.
func (in *embedInput) seed() uint64 {
	h := uint64(14695981039346656037)
	mix := func(c byte) { h = (h ^ uint64(c)) * 1099511628211 }
	if in.tokens != nil {
		mix('t') // token arrays and texts never share a vector by accident
		for _, t := range in.tokens {
			for k := 0; k < 64; k += 8 {
				mix(byte(uint64(t) >> k))
			}
		}
		return h
	}
	for i := 0; i < len(in.text); i++ {
		mix(in.text[i])
	}
	return h
}

// appendVector appends the input's deterministic unit vector of dims
// floats: a splitmix64 sequence seeded by the input's hash, mapped to
// [-1, 1) and L2-normalised. As JSON it is an array of floats; with
// base64, the base64 of the little-endian float32s (OpenAI's
// encoding_format=base64), for which scratch is reused.
func (in *embedInput) appendVector(b []byte, dims int, b64 bool, scratch *[]byte) []byte {
	seed := in.seed()
	next := func(state *uint64) float64 {
		*state += 0x9e3779b97f4a7c15
		z := *state
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		z ^= z >> 31
		return float64(z>>11)/(1<<52) - 1
	}
	state, sum := seed, 0.0
	for range dims {
		v := next(&state)
		sum += v * v
	}
	scale := 1 / math.Sqrt(sum)
	if sum == 0 || math.IsInf(scale, 0) {
		scale = 0
	}
	state = seed
	if b64 {
		raw := (*scratch)[:0]
		for range dims {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(next(&state)*scale)))
		}
		*scratch = raw
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, raw)
		return append(b, '"')
	}
	b = append(b, '[')
	for i := range dims {
		if i > 0 {
			b = append(b, ',')
		}
		// strconv's shortest 'g' form, not encoding/json's: small
		// components come out as 1.2345e-05, not 0.000012345, so clients
		// of the mock also meet exponents.
		b = strconv.AppendFloat(b, float64(float32(next(&state)*scale)), 'g', -1, 32)
	}
	return append(b, ']')
}

// openAIEmbeddingsRequest is the part of an OpenAI embeddings request the
// mock reads.
type openAIEmbeddingsRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     *int            `json:"dimensions"`
}

// parseEmbedInputs reads OpenAI's input: a string, an array of strings, a
// token array or an array of token arrays. It returns a message for the
// client when the input is missing, empty or malformed.
func parseEmbedInputs(raw json.RawMessage) ([]embedInput, string) {
	raw = bytes.TrimSpace(raw)
	const invalid = "'$.input' is invalid: it must be a non-empty string, array of strings, or array of token arrays"
	if len(raw) == 0 || raw[0] == 'n' {
		return nil, "you must provide an input parameter"
	}
	var out []embedInput
	switch first := firstElem(raw); {
	case raw[0] == '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, invalid
		}
		out = []embedInput{{text: s}}
	case raw[0] != '[' || first == ']':
		return nil, invalid
	case first == '"':
		var ss []string
		if json.Unmarshal(raw, &ss) != nil {
			return nil, invalid
		}
		out = make([]embedInput, len(ss))
		for i, s := range ss {
			out[i].text = s
		}
	case first == '[':
		var tt [][]int
		if json.Unmarshal(raw, &tt) != nil {
			return nil, invalid
		}
		out = make([]embedInput, len(tt))
		for i, t := range tt {
			out[i].tokens = t
		}
	default:
		var t []int
		if json.Unmarshal(raw, &t) != nil {
			return nil, invalid
		}
		out = []embedInput{{tokens: t}}
	}
	if len(out) > maxEmbedInputs {
		return nil, "'$.input' must have at most " + strconv.Itoa(maxEmbedInputs) + " elements"
	}
	for i := range out {
		if out[i].text == "" && len(out[i].tokens) == 0 {
			return nil, invalid
		}
	}
	return out, ""
}

// firstElem returns the first non-space byte after raw's opening bracket,
// or 0.
func firstElem(raw []byte) byte {
	if len(raw) == 0 || raw[0] != '[' {
		return 0
	}
	rest := bytes.TrimLeft(raw[1:], " \t\r\n")
	if len(rest) == 0 {
		return 0
	}
	return rest[0]
}

// openAIEmbeddings answers POST /v1/embeddings and Azure's deployment
// equivalent (deployment non-empty).
func (x *exchange) openAIEmbeddings(deployment string) {
	if deployment != "" && x.r.URL.Query().Get("api-version") == "" {
		x.fail(http.StatusBadRequest, "", "api-version", "missing required query parameter api-version")
		return
	}
	var req openAIEmbeddingsRequest
	if err := json.Unmarshal(x.body, &req); err != nil {
		x.fail(http.StatusBadRequest, "", "", "invalid JSON body: "+err.Error())
		return
	}
	if req.Model == "" {
		req.Model = deployment
	}
	if req.Model == "" {
		x.fail(http.StatusBadRequest, "", "model", "you must provide a model parameter")
		return
	}
	inputs, msg := parseEmbedInputs(req.Input)
	if msg != "" {
		x.fail(http.StatusBadRequest, "", "input", msg)
		return
	}
	dims, ok := dimensions(req.Dimensions)
	if !ok {
		x.fail(http.StatusBadRequest, "", "dimensions", "dimensions must be between 1 and "+strconv.Itoa(maxDimensions))
		return
	}
	var b64 bool
	switch req.EncodingFormat {
	case "", "float":
	case "base64":
		b64 = true
	default:
		x.fail(http.StatusBadRequest, "", "encoding_format", "encoding_format must be \"float\" or \"base64\"")
		return
	}
	x.s.models.add(req.Model)

	b := getBuf()
	defer putBuf(b)
	var scratch []byte
	buf := append(*b, `{"object":"list","data":[`...)
	tokens := 0
	for i := range inputs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"object":"embedding","index":`...)
		buf = jsonw.AppendInt(buf, int64(i))
		buf = append(buf, `,"embedding":`...)
		buf = inputs[i].appendVector(buf, dims, b64, &scratch)
		buf = append(buf, '}')
		tokens += inputs[i].tokenCount()
	}
	buf = append(buf, `],"model":`...)
	buf = jsonw.AppendString(buf, req.Model)
	buf = append(buf, `,"usage":{"prompt_tokens":`...)
	buf = jsonw.AppendInt(buf, int64(tokens))
	buf = append(buf, `,"total_tokens":`...)
	buf = jsonw.AppendInt(buf, int64(tokens))
	*b = append(buf, "}}"...)
	writeJSON(x.w, http.StatusOK, *b, x.drop)
}

// dimensions returns the requested vector size, or the default for nil.
func dimensions(d *int) (int, bool) {
	if d == nil {
		return defaultDimensions, true
	}
	return *d, *d >= 1 && *d <= maxDimensions
}
