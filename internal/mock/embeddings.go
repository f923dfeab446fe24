package mock

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode"
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

// seed hashes a token-array input with 64-bit FNV-1a; text inputs take
// the same hash of their bytes when they hold no word at all.
func (in *embedInput) seed() uint64 {
	h := uint64(fnvOffset)
	mix := func(c byte) { h = (h ^ uint64(c)) * fnvPrime }
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
// floats (see vector). As JSON it is an array of floats; with base64, the
// base64 of the little-endian float32s (OpenAI's encoding_format=base64),
// for which scratch is reused.
func (in *embedInput) appendVector(b []byte, dims int, b64 bool, scratch *[]byte) []byte {
	vec := in.vector(dims)
	if b64 {
		raw := (*scratch)[:0]
		for _, v := range vec {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
		}
		*scratch = raw
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, raw)
		return append(b, '"')
	}
	b = append(b, '[')
	for i, v := range vec {
		if i > 0 {
			b = append(b, ',')
		}
		// strconv's shortest 'g' form, not encoding/json's: small
		// components come out as 1.2345e-05, not 0.000012345, so clients
		// of the mock also meet exponents.
		b = strconv.AppendFloat(b, float64(v), 'g', -1, 32)
	}
	return append(b, ']')
}

// vector is the input's unit vector of dims floats: for text, the hashed
// bag of words (wordVector); for a token array, or a text without a single
// letter or digit, a splitmix64 sequence seeded by the input's hash,
// mapped to [-1, 1) and L2-normalised.
func (in *embedInput) vector(dims int) []float32 {
	if in.tokens == nil {
		if v := wordVector(in.text, dims); v != nil {
			return v
		}
	}
	return seededVector(in.seed(), dims)
}

// seededVector is the pseudo-random unit vector of dims floats for seed.
func seededVector(seed uint64, dims int) []float32 {
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
	out := make([]float32, dims)
	for i := range out {
		out[i] = float32(next(&state) * scale)
	}
	return out
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

// 64-bit FNV-1a parameters, for input seeds and word dimensions.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// stopWords are common English words that carry little meaning; a text
// made of nothing else is embedded from them anyway.
var stopWords = map[string]bool{
	"a": true, "an": true, "the": true, "and": true, "or": true, "but": true,
	"if": true, "of": true, "to": true, "in": true, "on": true, "at": true,
	"by": true, "for": true, "with": true, "from": true, "as": true, "into": true,
	"is": true, "are": true, "was": true, "were": true, "be": true, "been": true,
	"am": true, "do": true, "does": true, "did": true, "have": true, "has": true,
	"i": true, "me": true, "my": true, "you": true, "your": true, "we": true,
	"our": true, "it": true, "its": true, "this": true, "that": true,
	"these": true, "those": true, "what": true, "which": true, "who": true,
	"how": true, "can": true, "could": true, "would": true, "should": true,
	"will": true, "please": true, "so": true, "not": true, "no": true,
}

// wordVector is the hashed bag-of-words embedding of text: its words
// (runs of letters and digits, lower-cased, apostrophes dropped) without
// stop words (before or after stemming), each lightly stemmed (stem),
// hashed with FNV-1a to one of dims dimensions and a sign, the counts
// summed and the sum L2-normalised. Texts sharing most of their words point
// the same way; texts sharing none are near orthogonal, as long as dims is
// large enough to keep their words from colliding. A text of stop words
// only is embedded from those. It returns nil for a text without a word,
// or whose words cancel out (+1 and -1 in every dimension they hit).
func wordVector(text string, dims int) []float32 {
	sums := make([]float64, dims)
	content, stops := 0, 0
	eachWord(text, func(w string) {
		s := stem(w)
		if stopWords[w] || stopWords[s] {
			stops++
			return
		}
		content++
		addHashed(sums, s)
	})
	if content == 0 && stops > 0 {
		eachWord(text, func(w string) { addHashed(sums, w) })
	}
	var norm float64
	for _, v := range sums {
		norm += v * v
	}
	if norm == 0 {
		return nil
	}
	scale := 1 / math.Sqrt(norm)
	out := make([]float32, dims)
	for i, v := range sums {
		out[i] = float32(v * scale)
	}
	return out
}

// addHashed adds ±1 for word to the dimension its FNV-1a hash picks; bit
// 63 of the hash gives the sign.
func addHashed(sums []float64, word string) {
	h := uint64(fnvOffset)
	for i := 0; i < len(word); i++ {
		h = (h ^ uint64(word[i])) * fnvPrime
	}
	if h>>63 == 0 {
		sums[h%uint64(len(sums))]++
	} else {
		sums[h%uint64(len(sums))]--
	}
}

// eachWord calls fn with every word of text, lower-cased: a maximal run of
// Unicode letters and digits, where apostrophes (' and ’) are skipped
// rather than ending the word, so "don't" is "dont".
func eachWord(text string, fn func(string)) {
	var w []byte
	for _, r := range text {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			w = utf8.AppendRune(w, unicode.ToLower(r))
		case r == '\'' || r == '’':
		default:
			if len(w) > 0 {
				fn(string(w))
				w = w[:0]
			}
		}
	}
	if len(w) > 0 {
		fn(string(w))
	}
}

// stem strips one inflection from w when at least three letters remain:
// "ing", "ed", "es" after s, x, z, ch or sh ("boxes", "wishes"), or a
// single "s" not after another s ("capitals", but not "class").
func stem(w string) string {
	keeps := func(suffix string) bool {
		return strings.HasSuffix(w, suffix) && utf8.RuneCountInString(w[:len(w)-len(suffix)]) >= 3
	}
	switch {
	case keeps("ing"):
		return w[:len(w)-3]
	case keeps("ed"):
		return w[:len(w)-2]
	case keeps("es") && sibilantEnd(w[:len(w)-2]):
		return w[:len(w)-2]
	case keeps("s") && !strings.HasSuffix(w, "ss"):
		return w[:len(w)-1]
	}
	return w
}

// sibilantEnd reports whether w ends in s, x, z, ch or sh, after which a
// plural takes "es".
func sibilantEnd(w string) bool {
	for _, s := range []string{"s", "x", "z", "ch", "sh"} {
		if strings.HasSuffix(w, s) {
			return true
		}
	}
	return false
}
