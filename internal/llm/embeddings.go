package llm

import "encoding/json"

// EmbeddingsRequest asks for vector embeddings of one or more inputs.
type EmbeddingsRequest struct {
	Model string
	// Inputs holds one element per input. Each is text or, for clients that
	// send token arrays, Tokens.
	Inputs []EmbeddingInput
	// EncodingFormat is "float" (default) or "base64".
	EncodingFormat string
	Dimensions     *int
	User           string
	Extra          map[string]json.RawMessage
	Format         string
}

// EmbeddingInput is one text (or token array) to embed.
type EmbeddingInput struct {
	Text   string
	Tokens []int
}

// EmbeddingsResponse holds one embedding per input, in input order.
type EmbeddingsResponse struct {
	Model string
	Data  []Embedding
	Usage Usage
}

// Embedding is one vector. Exactly one of Vector and Base64 is set: a
// provider that answered in base64 is passed through without decoding.
type Embedding struct {
	Index  int
	Vector []float32
	Base64 string
}
