package openai

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
)

// TestChatRequestRoundTripProperty checks DecodeChatRequest(EncodeChatRequest(x))
// equals x for random canonical requests in the form an OpenAI client's
// request decodes to (one tool result per tool message, media as the
// decoder fills it, …).
func TestChatRequestRoundTripProperty(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(1, 2))}
	n := 500 // cmp.Diff dominates the cost
	if testing.Short() {
		n = 100
	}
	for i := range n {
		want := g.request()
		body, err := EncodeChatRequest(want, EncodeOptions{Type: "openai"})
		if err != nil {
			t.Fatalf("case %d: encode: %v", i, err)
		}
		got, err := DecodeChatRequest(body)
		if err != nil {
			t.Fatalf("case %d: decode: %v\n%s", i, err, body)
		}
		if diff := cmp.Diff(want, got, roundTripOpts); diff != "" {
			t.Fatalf("case %d: round trip (-want +got):\n%s\nbody: %s", i, diff, body)
		}
	}
}

type gen struct{ r *rand.Rand }

func (g gen) maybe() bool { return g.r.IntN(2) == 0 }

// text returns a random valid UTF-8 string with characters that need
// escaping.
func (g gen) text() string {
	alphabet := []string{"a", "Z", " ", "\"", "\\", "\n", "\t", "\x01", "\u2028", "é", "中", "😀", "<", "&", "/", "{", "}"}
	var b strings.Builder
	for range g.r.IntN(12) {
		b.WriteString(alphabet[g.r.IntN(len(alphabet))])
	}
	return b.String()
}

func (g gen) nonEmpty() string { return "x" + g.text() }

func (g gen) float(lo, hi float64) *float64 {
	if g.maybe() {
		return nil
	}
	v := lo + g.r.Float64()*(hi-lo)
	return &v
}

func (g gen) intIn(lo, hi int) *int {
	if g.maybe() {
		return nil
	}
	v := lo + g.r.IntN(hi-lo+1)
	return &v
}

func (g gen) boolPtr() *bool {
	if g.maybe() {
		return nil
	}
	v := g.maybe()
	return &v
}

func (g gen) request() *llm.Request {
	r := &llm.Request{Model: g.nonEmpty(), Format: FormatName}
	for range 1 + g.r.IntN(6) {
		r.Messages = append(r.Messages, g.message())
	}
	for i := range g.r.IntN(3) {
		if g.r.IntN(4) == 0 {
			r.Tools = append(r.Tools, llm.Tool{Type: "custom",
				Raw: json.RawMessage(fmt.Sprintf(`{"type":"custom","custom":{"name":"c%d"}}`, i))})
			continue
		}
		t := llm.Tool{Type: "function", Name: fmt.Sprintf("f%d", i), Strict: g.boolPtr()}
		if g.maybe() {
			t.Description = g.text()
			t.Parameters = json.RawMessage(`{"type":"object","properties":{"q":{"type":"string"}}}`)
		}
		r.Tools = append(r.Tools, t)
	}
	switch g.r.IntN(5) {
	case 1:
		r.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceAuto}
	case 2:
		r.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceRequired}
	case 3:
		r.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceFunction, Name: g.nonEmpty()}
	}
	r.ParallelToolCalls = g.boolPtr()
	switch g.r.IntN(4) {
	case 1:
		r.ResponseFormat = &llm.ResponseFormat{Type: llm.FormatJSONObject}
	case 2:
		r.ResponseFormat = &llm.ResponseFormat{Type: llm.FormatJSONSchema, Name: "s", Description: g.text(),
			Schema: json.RawMessage(`{"type":"object"}`), Strict: g.boolPtr()}
	}
	r.Stream = g.maybe()
	r.IncludeUsage = r.Stream && g.maybe()
	r.MaxTokens = g.intIn(1, 1<<20)
	r.Temperature, r.TopP = g.float(0, 2), g.float(0, 1)
	r.N = g.intIn(1, 128)
	if g.maybe() {
		r.Stop = []string{g.text(), g.nonEmpty()}[:1+g.r.IntN(2)]
	}
	if g.maybe() {
		s := g.r.Int64() - g.r.Int64()
		r.Seed = &s
	}
	r.PresencePenalty, r.FrequencyPenalty = g.float(-2, 2), g.float(-2, 2)
	if g.maybe() {
		r.LogitBias = map[string]float64{"1": -100, "2": 7.5}
	}
	r.Logprobs, r.TopLogprobs = g.boolPtr(), g.intIn(0, 20)
	r.User = g.text()
	if g.maybe() {
		r.Metadata = map[string]string{"k": g.text(), "é": g.text()}
	}
	if g.maybe() {
		e := []string{"none", "minimal", "low", "medium", "high"}[g.r.IntN(5)]
		r.Reasoning = &llm.Reasoning{Effort: e, Disabled: e == "none"}
	}
	if g.maybe() {
		r.Modalities = []string{"text", "audio"}
		r.Audio = json.RawMessage(`{"voice":"alloy","format":"wav"}`)
	}
	if g.maybe() {
		r.ServiceTier = "flex"
	}
	r.Store = g.boolPtr()
	if g.maybe() {
		r.Extra = map[string]json.RawMessage{"prompt_cache_key": json.RawMessage(`"k"`), "x": json.RawMessage(`[1,{"a":null}]`)}
	}
	return r
}

func (g gen) message() llm.Message {
	m := llm.Message{}
	if g.r.IntN(3) == 0 {
		m.Name = g.nonEmpty()
	}
	switch g.r.IntN(5) {
	case 0:
		m.Role = []llm.Role{llm.RoleSystem, llm.RoleDeveloper}[g.r.IntN(2)]
		for range 1 + g.r.IntN(2) {
			m.Parts = append(m.Parts, llm.TextPart(g.text()))
		}
	case 1, 2:
		m.Role = llm.RoleUser
		for range 1 + g.r.IntN(4) {
			m.Parts = append(m.Parts, g.userPart())
		}
		if len(m.Parts) == 1 && m.Parts[0].Kind != llm.PartText {
			m.Parts = append(m.Parts, llm.TextPart(g.text()))
		}
	case 3:
		m.Role = llm.RoleAssistant
		calls := g.r.IntN(3)
		texts := g.r.IntN(3)
		for range texts {
			if g.r.IntN(4) == 0 {
				m.Parts = append(m.Parts, llm.Part{Kind: llm.PartRefusal, Text: g.nonEmpty()})
			} else {
				m.Parts = append(m.Parts, llm.TextPart(g.nonEmpty()))
			}
		}
		if g.r.IntN(5) == 0 {
			m.Parts = append(m.Parts, llm.Part{Kind: llm.PartAudio, Media: &llm.Media{FileID: "audio_" + g.nonEmpty()}})
		}
		for i := range calls {
			tc := &llm.ToolCall{ID: fmt.Sprintf("call_%d", i), Type: "function", Name: "f", Arguments: `{"a":` + fmt.Sprint(i) + `}`}
			if g.r.IntN(4) == 0 {
				tc.Type, tc.Arguments = "custom", g.text()
			}
			m.Parts = append(m.Parts, llm.Part{Kind: llm.PartToolCall, ToolCall: tc})
		}
		if len(m.Parts) == 0 {
			m.Parts = append(m.Parts, llm.TextPart(g.nonEmpty()))
		}
	default:
		m.Role = llm.RoleTool
		res := &llm.ToolResult{CallID: "call_" + g.nonEmpty()}
		for range 1 + g.r.IntN(2) {
			res.Parts = append(res.Parts, llm.TextPart(g.text()))
		}
		if g.r.IntN(4) == 0 {
			res.Parts = append(res.Parts, llm.Part{Kind: llm.PartImage, Media: &llm.Media{URL: "https://x/y.png"}})
		}
		m.Parts = []llm.Part{{Kind: llm.PartToolResult, ToolResult: res}}
	}
	return m
}

func (g gen) userPart() llm.Part {
	switch g.r.IntN(6) {
	case 0:
		return llm.Part{Kind: llm.PartImage, Media: &llm.Media{URL: "https://img.example/" + g.nonEmpty(),
			Detail: []string{"", "low", "high", "auto"}[g.r.IntN(4)]}}
	case 1:
		return llm.Part{Kind: llm.PartImage, Media: &llm.Media{URL: "data:image/jpeg;base64,/9j/4AAQ", MIMEType: "image/jpeg"}}
	case 2:
		return llm.Part{Kind: llm.PartAudio, Media: &llm.Media{Data: "UklGRg==", Format: "mp3", MIMEType: "audio/mpeg"}}
	case 3:
		switch g.r.IntN(3) {
		case 0:
			return llm.Part{Kind: llm.PartFile, Media: &llm.Media{FileID: "file-" + g.nonEmpty()}}
		case 1:
			return llm.Part{Kind: llm.PartFile, Media: &llm.Media{URL: "data:application/pdf;base64,JVBE", MIMEType: "application/pdf", Filename: g.text()}}
		}
		return llm.Part{Kind: llm.PartFile, Media: &llm.Media{Data: "JVBE", Filename: g.nonEmpty()}}
	}
	return llm.TextPart(g.text())
}
