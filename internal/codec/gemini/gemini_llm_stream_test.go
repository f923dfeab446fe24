package gemini

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/sse"
)

// streamCase is a sequence of Gemini stream events and what the decoder
// must make of them.
type streamCase struct {
	name   string
	events []string
	want   []llm.Chunk
	// wantErr is the error Decode returns (at the last event); wantFinish
	// the code of the error Finish returns, "" for nil.
	wantErr    *errFields
	wantFinish string
}

const (
	meta = `"modelVersion":"gemini-2.5-flash","responseId":"r1"`
	m25  = "gemini-2.5-flash"
)

func streamCases() []streamCase {
	created := testNow.Unix()
	chunk := func(deltas []llm.Delta, u *llm.Usage) llm.Chunk {
		return llm.Chunk{ID: "r1", Model: m25, Created: created, Deltas: deltas, Usage: u}
	}
	callID := makeCallID("r1", 0, 0, "", testSig)
	return []streamCase{
		{name: "text in several events", events: []string{
			`{"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":5,"totalTokenCount":5},` + meta + `}`,
			`{"candidates":[{"content":{"parts":[{"text":"lo, "}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":2,"totalTokenCount":7},` + meta + `}`,
			`{"candidates":[{"content":{"parts":[{"text":"world"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":3,"totalTokenCount":8},` + meta + `}`,
		}, want: []llm.Chunk{
			chunk([]llm.Delta{{Role: llm.RoleAssistant, Text: "Hel"}}, nil),
			chunk([]llm.Delta{{Text: "lo, "}}, nil),
			chunk([]llm.Delta{{Text: "world", FinishReason: llm.FinishStop}}, &llm.Usage{InputTokens: 5, OutputTokens: 3}),
		}},
		{name: "thinking then function call", events: []string{
			`{"candidates":[{"content":{"parts":[{"text":"Planning the call","thought":true}],"role":"model"},"index":0}],` + meta + `}`,
			`{"candidates":[{"content":{"parts":[{"functionCall":{"name":"get_weather","args":{"city": "Paris"}},"thoughtSignature":"` + testSig + `"}],"role":"model"},"index":0}],` + meta + `}`,
			`{"candidates":[{"content":{"parts":[{"text":""}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":50,"candidatesTokenCount":10,"thoughtsTokenCount":30,"cachedContentTokenCount":20},` + meta + `}`,
		}, want: []llm.Chunk{
			chunk([]llm.Delta{{Role: llm.RoleAssistant, Reasoning: "Planning the call"}}, nil),
			chunk([]llm.Delta{{ToolCalls: []llm.ToolCallDelta{{ID: callID, Type: "function", Name: "get_weather", Arguments: `{"city":"Paris"}`}}}}, nil),
			chunk([]llm.Delta{{FinishReason: llm.FinishToolCalls}},
				&llm.Usage{InputTokens: 50, CachedInputTokens: 20, OutputTokens: 40, ReasoningTokens: 30}),
		}},
		{name: "usage after the finish", events: []string{
			`{"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},"finishReason":"STOP","index":0}],` + meta + `}`,
			`{"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1},` + meta + `}`,
			`{"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1},` + meta + `}`,
		}, want: []llm.Chunk{
			chunk([]llm.Delta{{Role: llm.RoleAssistant, Text: "Hi", FinishReason: llm.FinishStop}}, nil),
			chunk(nil, &llm.Usage{InputTokens: 3, OutputTokens: 1}),
		}},
		{name: "safety stop", events: []string{
			`{"candidates":[{"content":{"parts":[{"text":"Sure, here is"}],"role":"model"},"index":0}],` + meta + `}`,
			`{"candidates":[{"finishReason":"SAFETY","index":0,"safetyRatings":[{"category":"HARM_CATEGORY_DANGEROUS_CONTENT","probability":"HIGH","blocked":true}]}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":4},` + meta + `}`,
		}, want: []llm.Chunk{
			chunk([]llm.Delta{{Role: llm.RoleAssistant, Text: "Sure, here is"}}, nil),
			chunk([]llm.Delta{{FinishReason: llm.FinishContentFilter}}, &llm.Usage{InputTokens: 8, OutputTokens: 4}),
		}},
		{name: "two candidates", events: []string{
			`{"candidates":[{"content":{"parts":[{"text":"A"}],"role":"model"}},{"content":{"parts":[{"text":"B"}],"role":"model"},"index":1}],` + meta + `}`,
			`{"candidates":[{"content":{"parts":[{"text":"."}],"role":"model"},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":2,"candidatesTokenCount":3},` + meta + `}`,
			`{"candidates":[{"content":{"parts":[{"text":"!"}],"role":"model"},"finishReason":"MAX_TOKENS","index":1}],"usageMetadata":{"promptTokenCount":2,"candidatesTokenCount":4},` + meta + `}`,
		}, want: []llm.Chunk{
			chunk([]llm.Delta{{Role: llm.RoleAssistant, Text: "A"}, {Index: 1, Role: llm.RoleAssistant, Text: "B"}}, nil),
			chunk([]llm.Delta{{Text: ".", FinishReason: llm.FinishStop}}, nil),
			chunk([]llm.Delta{{Index: 1, Text: "!", FinishReason: llm.FinishLength}}, &llm.Usage{InputTokens: 2, OutputTokens: 4}),
		}},
		{name: "keep-alive and empty events", events: []string{
			``, `{}`,
			`{"candidates":[{"content":{"parts":[{"text":"ok"}],"role":"model"},"finishReason":"STOP"}],` + meta + `}`,
		}, want: []llm.Chunk{
			chunk([]llm.Delta{{Role: llm.RoleAssistant, Text: "ok", FinishReason: llm.FinishStop}}, nil),
		}},
		{name: "truncated", events: []string{
			`{"candidates":[{"content":{"parts":[{"text":"Once upon"}],"role":"model"}}],"usageMetadata":{"promptTokenCount":2},` + meta + `}`,
		}, want: []llm.Chunk{
			chunk([]llm.Delta{{Role: llm.RoleAssistant, Text: "Once upon"}}, nil),
		}, wantFinish: "stream_truncated"},
		{name: "no events", wantFinish: "stream_truncated"},
		{name: "prompt blocked", events: []string{
			`{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},"usageMetadata":{"promptTokenCount":9},` + meta + `}`,
		}, wantErr: &errFields{Status: http.StatusBadRequest, Type: llm.TypeInvalidRequest, Code: "content_filter",
			Param: "messages", Provider: "google", Fault: llm.FaultProvider}},
		{name: "error mid-stream", events: []string{
			`{"candidates":[{"content":{"parts":[{"text":"Partial"}],"role":"model"}}],` + meta + `}`,
			`{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}`,
		}, want: []llm.Chunk{
			chunk([]llm.Delta{{Role: llm.RoleAssistant, Text: "Partial"}}, nil),
		}, wantErr: &errFields{Status: http.StatusServiceUnavailable, Type: llm.TypeOverloaded, Code: "unavailable",
			Provider: "google", Fault: llm.FaultProvider}},
		{name: "not JSON", events: []string{`{"candidates":[`},
			wantErr: &errFields{Status: http.StatusBadGateway, Type: llm.TypeAPI, Code: "invalid_upstream_response",
				Provider: "google", Fault: llm.FaultProvider}},
		{name: "candidate index out of range", events: []string{`{"candidates":[{"index":100000}]}`},
			wantErr: &errFields{Status: http.StatusBadGateway, Type: llm.TypeAPI, Code: "invalid_upstream_response",
				Provider: "google", Fault: llm.FaultProvider}},
	}
}

// runStream feeds events to a decoder and returns copies of its chunks,
// the error that stopped it, and Finish's error when none did.
func runStream(t testing.TB, events []string) (chunks []llm.Chunk, decodeErr, finishErr error) {
	d := NewStreamDecoder("google")
	for _, ev := range events {
		c, done, err := d.Decode(&sse.Event{Data: []byte(ev)})
		if done {
			t.Fatal("Decode reported done: Gemini streams have no end event")
		}
		if err != nil {
			return chunks, err, nil
		}
		if c != nil {
			chunks = append(chunks, cloneChunk(c))
		}
	}
	return chunks, nil, d.Finish()
}

// cloneChunk deep-copies a chunk the decoder will reuse.
func cloneChunk(c *llm.Chunk) llm.Chunk {
	out := *c
	out.Deltas = nil
	for _, d := range c.Deltas {
		d.ToolCalls = append([]llm.ToolCallDelta(nil), d.ToolCalls...)
		if len(d.ToolCalls) == 0 {
			d.ToolCalls = nil
		}
		out.Deltas = append(out.Deltas, d)
	}
	if c.Usage != nil {
		u := *c.Usage
		out.Usage = &u
	}
	return out
}

func TestStreamDecoder(t *testing.T) {
	for _, tc := range streamCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, decErr, finErr := runStream(t, tc.events)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("chunks (-want +got):\n%s", diff)
			}
			switch {
			case tc.wantErr != nil:
				if decErr == nil {
					t.Fatal("Decode returned no error")
				}
				if diff := cmp.Diff(*tc.wantErr, fieldsOf(t, decErr)); diff != "" {
					t.Errorf("Decode error %v (-want +got):\n%s", decErr, diff)
				}
			case decErr != nil:
				t.Fatalf("Decode: %v", decErr)
			case tc.wantFinish == "":
				if finErr != nil {
					t.Errorf("Finish: %v", finErr)
				}
			default:
				want := errFields{Status: http.StatusBadGateway, Type: llm.TypeAPI, Code: tc.wantFinish,
					Provider: "google", Fault: llm.FaultProvider}
				if diff := cmp.Diff(want, fieldsOf(t, finErr)); diff != "" {
					t.Errorf("Finish error (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestStreamAndWholeAgree guards the promise that a streamed answer and the
// same answer decoded whole give the same text, tool calls and IDs, so a
// client may switch between the two mid-conversation.
func TestStreamAndWholeAgree(t *testing.T) {
	for name, body := range decodeFixtures(t) {
		t.Run(name, func(t *testing.T) {
			whole, err := DecodeGenerateResponse(body)
			if err != nil {
				t.Fatal(err)
			}
			// One event holding the whole answer, as a short stream sends it.
			chunks, decErr, finErr := runStream(t, []string{strings.ReplaceAll(string(body), "\n", "")})
			if decErr != nil || finErr != nil {
				t.Fatalf("stream: %v / %v", decErr, finErr)
			}
			type view struct {
				Text, Reasoning string
				Calls           []llm.ToolCall
				Finish          llm.FinishReason
			}
			got := map[int]*view{}
			for _, c := range chunks {
				for _, d := range c.Deltas {
					v := got[d.Index]
					if v == nil {
						v = &view{}
						got[d.Index] = v
					}
					v.Text += d.Text
					v.Reasoning += d.Reasoning
					for _, tc := range d.ToolCalls {
						v.Calls = append(v.Calls, llm.ToolCall{ID: tc.ID, Type: tc.Type, Name: tc.Name, Arguments: tc.Arguments})
					}
					if d.FinishReason != "" {
						v.Finish = d.FinishReason
					}
				}
			}
			want := map[int]*view{}
			for _, ch := range whole.Choices {
				v := &view{Text: ch.Message.Text(), Finish: ch.FinishReason}
				for _, p := range ch.Message.Parts {
					if p.Kind == llm.PartReasoning {
						v.Reasoning += p.Text
					}
				}
				for _, tc := range ch.Message.ToolCalls() {
					v.Calls = append(v.Calls, *tc)
				}
				want[ch.Index] = v
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("whole vs streamed (-whole +stream):\n%s", diff)
			}
		})
	}
}
