package usage

import (
	"fmt"
	"testing"

	"github.com/tiktoken-go/tokenizer"
)

func TestEncodingFor(t *testing.T) {
	for _, tc := range []struct {
		name, model string
		want        tokenizer.Encoding
	}{
		{"gpt-4o", "gpt-4o", tokenizer.O200kBase},
		{"gpt-4o dated", "gpt-4o-2024-08-06", tokenizer.O200kBase},
		{"gpt-4o-mini", "gpt-4o-mini", tokenizer.O200kBase},
		{"gpt-4.1-nano", "gpt-4.1-nano", tokenizer.O200kBase},
		{"gpt-5", "gpt-5", tokenizer.O200kBase},
		{"gpt-5.4-mini", "gpt-5.4-mini", tokenizer.O200kBase},
		{"o1", "o1", tokenizer.O200kBase},
		{"o3-mini", "o3-mini", tokenizer.O200kBase},
		{"o4-mini", "o4-mini", tokenizer.O200kBase},
		{"chatgpt-4o", "chatgpt-4o-latest", tokenizer.O200kBase},
		{"gpt-oss on groq", "openai/gpt-oss-120b", tokenizer.O200kBase},
		{"provider prefix", "openai/gpt-4o", tokenizer.O200kBase},
		{"fine-tune", "ft:gpt-4o-mini-2024-07-18:acme::abc123", tokenizer.O200kBase},
		{"gpt-4", "gpt-4", tokenizer.Cl100kBase},
		{"gpt-4-turbo", "gpt-4-turbo", tokenizer.Cl100kBase},
		{"gpt-3.5-turbo", "gpt-3.5-turbo", tokenizer.Cl100kBase},
		{"embeddings", "text-embedding-3-small", tokenizer.Cl100kBase},
		{"claude estimate", "claude-sonnet-4-5", tokenizer.Cl100kBase},
		{"gemini estimate", "gemini-2.5-pro", tokenizer.Cl100kBase},
		{"mock", "echo", tokenizer.Cl100kBase},
		{"empty", "", tokenizer.Cl100kBase},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := EncodingFor(tc.model); got != tc.want {
				t.Errorf("EncodingFor(%q) = %s, want %s", tc.model, got, tc.want)
			}
		})
	}
}

// TestCountText checks counts against values published for tiktoken: the
// library's own "hello world" IDs and the OpenAI cookbook's
// "tiktoken is great!" (t|ik|token| is| great|!).
func TestCountText(t *testing.T) {
	for _, tc := range []struct {
		name, model, text string
		want              int
	}{
		{"empty", "gpt-4o", "", 0},
		{"hello world cl100k", "gpt-4", "hello world", 2},
		{"hello world o200k", "gpt-4o", "hello world", 2},
		{"double space cl100k", "gpt-4", "hello  world", 3},
		{"cookbook cl100k", "gpt-3.5-turbo", "tiktoken is great!", 6},
		{"cookbook o200k", "gpt-4o", "tiktoken is great!", 6},
		{"japanese cl100k", "gpt-4", "日本語のテキスト", 8},
		{"japanese o200k", "gpt-4o", "日本語のテキスト", 6},
		{"special token text is plain text", "gpt-4", "<|endoftext|>", 7},
		// The tokenizer reads invalid bytes as U+FFFD, as "a\uFFFDb" counts.
		{"invalid utf-8 counts as replacement", "gpt-4", "a\xffb", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CountText(tc.model, tc.text); got != tc.want {
				t.Errorf("CountText(%q, %q) = %d, want %d", tc.model, tc.text, got, tc.want)
			}
		})
	}
}

// TestCodecsLoad guards the fallback path: both encodings must load, or
// every count silently degrades to the byte estimate.
func TestCodecsLoad(t *testing.T) {
	for _, enc := range []tokenizer.Encoding{tokenizer.O200kBase, tokenizer.Cl100kBase} {
		c := codecFor(enc)
		if c == nil {
			t.Fatalf("codecFor(%s) = nil", enc)
		}
		if got := c.GetName(); got != string(enc) {
			t.Errorf("codecFor(%s).GetName() = %q", enc, got)
		}
		if codecFor(enc) != c {
			t.Errorf("codecFor(%s) built a second codec; want one shared", enc)
		}
	}
}

func TestEstimateBytes(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		want int
	}{{"zero", 0, 0}, {"one", 1, 1}, {"four", 4, 1}, {"five", 5, 2}} {
		t.Run(tc.name, func(t *testing.T) {
			if got := estimateBytes(tc.n); got != tc.want {
				t.Errorf("estimateBytes(%d) = %d, want %d", tc.n, got, tc.want)
			}
		})
	}
}

// TestCountTextConcurrent shares the lazily built codecs between
// goroutines; run with -race it guards the "loaded once, shared" contract.
func TestCountTextConcurrent(t *testing.T) {
	models := []string{"gpt-4o", "gpt-4", "claude-haiku-4-5", "o3-mini"}
	results := make(chan error, 8)
	for g := range 8 {
		go func() {
			model := models[g%len(models)]
			for range 50 {
				if got := CountText(model, "hello world"); got != 2 {
					results <- fmt.Errorf("CountText(%q) = %d, want 2", model, got)
					return
				}
			}
			results <- nil
		}()
	}
	for range 8 {
		if err := <-results; err != nil {
			t.Error(err)
		}
	}
}
