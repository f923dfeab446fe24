package usage

import (
	"strings"
	"sync"

	"github.com/tiktoken-go/tokenizer"
)

// o200kPrefixes are the model-name prefixes tokenized with o200k_base; every
// other model uses cl100k_base. Order does not matter: the prefixes do not
// overlap in a way that changes the answer.
var o200kPrefixes = []string{
	"gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "chatgpt-4o",
	"o1", "o3", "o4", "gpt-oss",
}

// EncodingFor returns the tokenizer encoding used to count tokens for model:
// o200k_base for OpenAI's gpt-4o*, gpt-4.1*, gpt-4.5*, gpt-5*, o1*, o3*, o4*,
// chatgpt-4o* and gpt-oss* families, cl100k_base for everything else.
//
// A "provider/" prefix and a fine-tune "ft:" prefix are ignored, so
// "openai/gpt-4o" and "ft:gpt-4o-mini:org::id" count like gpt-4o. For models
// that are not OpenAI's (Claude, Gemini, Llama, Mistral…) the encoding is not
// theirs and every count derived from it is an estimate, typically within
// 10–20% for English text.
func EncodingFor(model string) tokenizer.Encoding {
	if i := strings.LastIndexByte(model, '/'); i >= 0 {
		model = model[i+1:]
	}
	model = strings.TrimPrefix(model, "ft:")
	for _, p := range o200kPrefixes {
		if strings.HasPrefix(model, p) {
			return tokenizer.O200kBase
		}
	}
	return tokenizer.Cl100kBase
}

// The two codecs are built on first use (loading a vocabulary takes tens of
// milliseconds and megabytes) and shared: tokenizer codecs are safe for
// concurrent use as long as nobody changes their error mode, which this
// package never does.
var (
	o200kCodec  = sync.OnceValue(func() tokenizer.Codec { return loadCodec(tokenizer.O200kBase) })
	cl100kCodec = sync.OnceValue(func() tokenizer.Codec { return loadCodec(tokenizer.Cl100kBase) })
)

// loadCodec returns the codec for enc, or nil if the library does not know
// it (impossible for the two encodings above; a test guards it).
func loadCodec(enc tokenizer.Encoding) tokenizer.Codec {
	c, err := tokenizer.Get(enc)
	if err != nil {
		return nil
	}
	return c
}

// codecFor returns the shared codec for enc; nil if it cannot be loaded.
func codecFor(enc tokenizer.Encoding) tokenizer.Codec {
	if enc == tokenizer.O200kBase {
		return o200kCodec()
	}
	return cl100kCodec()
}

// CountText returns the number of tokens text encodes to for model (see
// EncodingFor for which encoding that is). The empty string is 0 tokens.
// Special-token text such as "<|endoftext|>" is counted as ordinary text,
// which is how providers count user content.
func CountText(model, text string) int {
	return countEnc(EncodingFor(model), text)
}

// countEnc counts text with enc. Should the tokenizer ever fail (it reports
// errors only for regexp failures, which its patterns do not produce), the
// count falls back to the usual estimate of one token per four bytes.
func countEnc(enc tokenizer.Encoding, text string) int {
	if text == "" {
		return 0
	}
	c := codecFor(enc)
	if c == nil {
		return estimateBytes(len(text))
	}
	n, err := c.Count(text)
	if err != nil {
		return estimateBytes(len(text))
	}
	return n
}

// estimateBytes is the rough fallback: four bytes per token, rounded up.
func estimateBytes(n int) int { return (n + 3) / 4 }
