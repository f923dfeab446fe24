package cache_test

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/cache"
	"github.com/sluicehq/sluice/internal/llm"
)

// richAnswer is a whole answer using everything Replay can carry: two
// choices, reasoning with signatures, redacted reasoning, unicode text
// longer than ReplayPiece, tool calls, a refusal, logprobs, a stop
// sequence and usage.
func richAnswer() *llm.Response {
	long := strings.Repeat("Grüße aus Zürich — 東京の天気は晴れ 🌤️. ", 40) // ~2 KB, multi-byte runes
	return &llm.Response{
		ID: "chatcmpl-rich", Model: "gpt-test-1", Created: 1_700_000_000,
		SystemFingerprint: "fp_42", ServiceTier: "default",
		Usage: llm.Usage{InputTokens: 120, OutputTokens: 800, CachedInputTokens: 64, ReasoningTokens: 300},
		Choices: []llm.Choice{
			{
				Index: 0,
				Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
					{Kind: llm.PartReasoning, Text: "Let me think… " + strings.Repeat("ß", 600), Signature: "sig-one"},
					{Kind: llm.PartRedacted, Signature: "opaque-redacted-data"},
					{Kind: llm.PartReasoning, Text: "second thought", Signature: "sig-two"},
					{Kind: llm.PartText, Text: long},
					{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_1", Type: "function",
						Name: "get_weather", Arguments: `{"city":"Zürich"}`}},
					{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_2", Type: "function",
						Name: "get_time", Arguments: `{"tz":"Asia/Tokyo"}`}},
				}},
				FinishReason: llm.FinishToolCalls,
				Logprobs:     json.RawMessage(`{"content":[{"token":"Gr","logprob":-0.01}],"refusal":null}`),
			},
			{
				Index: 1,
				Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
					{Kind: llm.PartRefusal, Text: "I can’t help with that ✋"},
					{Kind: llm.PartText, Text: "But here is something else."},
				}},
				FinishReason: llm.FinishStop,
				StopSequence: "###",
			},
		},
	}
}

// recvAll reads s to its end, cloning each chunk (a Stream may reuse it),
// and returns the chunks and the error that ended it (nil for io.EOF).
func recvAll(t testing.TB, s llm.Stream) ([]*llm.Chunk, error) {
	t.Helper()
	var out []*llm.Chunk
	for range 100_000 {
		c, err := s.Recv()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, cache.CloneChunk(c))
	}
	t.Fatal("stream did not end")
	return nil, nil
}

// collectAll feeds chunks to a collector of max bytes.
func collectAll(maxBytes int, chunks []*llm.Chunk) (*llm.Response, bool) {
	c := cache.NewCollector(maxBytes)
	for _, ch := range chunks {
		c.Add(ch)
	}
	return c.Response()
}

func TestReplayCollectRoundTrip(t *testing.T) {
	want := richAnswer()
	chunks, err := recvAll(t, cache.Replay(want))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := collectAll(1<<20, chunks)
	if !ok {
		t.Fatal("Collector refused a replayed answer")
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("round trip (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(richAnswer(), want); diff != "" {
		t.Errorf("Replay modified its response (-now +before):\n%s", diff)
	}
}

func TestReplayShape(t *testing.T) {
	resp := richAnswer()
	s := cache.Replay(resp)
	var chunks []*llm.Chunk
	for {
		c, err := s.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		chunks = append(chunks, c) // kept uncloned: Replay's chunks are the caller's
	}
	for range 3 {
		if c, err := s.Recv(); c != nil || err != io.EOF {
			t.Fatalf("Recv after the end = %v, %v; want nil, io.EOF", c, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	first := chunks[0]
	wantRoles := []llm.Delta{{Index: 0, Role: llm.RoleAssistant}, {Index: 1, Role: llm.RoleAssistant}}
	if diff := cmp.Diff(first.Deltas, wantRoles); diff != "" {
		t.Errorf("first chunk (-got +want):\n%s", diff)
	}
	last := chunks[len(chunks)-1]
	if last.Usage == nil || *last.Usage != resp.Usage || len(last.Deltas) != 0 {
		t.Errorf("last chunk = %+v, want only usage %+v", last, resp.Usage)
	}
	seen := map[*llm.Chunk]bool{}
	finishes := 0
	for i, c := range chunks {
		if c.ID != resp.ID || c.Model != resp.Model || c.Created != resp.Created ||
			c.SystemFingerprint != resp.SystemFingerprint || c.ServiceTier != resp.ServiceTier {
			t.Errorf("chunk %d header = %q %q %d %q %q", i, c.ID, c.Model, c.Created, c.SystemFingerprint, c.ServiceTier)
		}
		if seen[c] {
			t.Errorf("chunk %d returned twice", i)
		}
		seen[c] = true
		for _, d := range c.Deltas {
			for _, frag := range []string{d.Text, d.Reasoning, d.Refusal} {
				if len(frag) > cache.ReplayPiece || !utf8.ValidString(frag) {
					t.Errorf("chunk %d: fragment of %d bytes (valid UTF-8: %v)", i, len(frag), utf8.ValidString(frag))
				}
			}
			if len(d.ToolCalls) > 1 {
				t.Errorf("chunk %d: %d tool calls in one delta, want one", i, len(d.ToolCalls))
			}
			if d.FinishReason != "" {
				finishes++
			}
		}
	}
	if finishes != 2 {
		t.Errorf("%d finish deltas, want 2", finishes)
	}
	// The kept chunks still hold the whole answer: none was reused.
	if got, ok := collectAll(1<<20, chunks); !ok || cmp.Diff(got, resp) != "" {
		t.Errorf("kept chunks no longer collect into the answer (ok=%v)", ok)
	}
}

func TestReplayPieces(t *testing.T) {
	tests := []struct {
		name string
		text string
	}{
		{"four-byte runes off the boundary", "a" + strings.Repeat("😀", 300)},
		{"two-byte runes", strings.Repeat("é", 1000)},
		{"exactly one piece", strings.Repeat("x", cache.ReplayPiece)},
		{"one byte over", strings.Repeat("x", cache.ReplayPiece+1)},
		{"invalid UTF-8", strings.Repeat("\x80", 1200)},
		{"short", "hi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := &llm.Response{Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant,
				Parts: []llm.Part{llm.TextPart(tt.text)}}, FinishReason: llm.FinishStop}}}
			chunks, err := recvAll(t, cache.Replay(resp))
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			pieces := 0
			for _, c := range chunks {
				for _, d := range c.Deltas {
					if d.Text == "" {
						continue
					}
					pieces++
					if len(d.Text) > cache.ReplayPiece {
						t.Errorf("piece of %d bytes", len(d.Text))
					}
					if utf8.ValidString(tt.text) && !utf8.ValidString(d.Text) {
						t.Errorf("piece %q cuts a rune", d.Text)
					}
					b.WriteString(d.Text)
				}
			}
			if b.String() != tt.text {
				t.Errorf("pieces join to %d bytes, want the %d-byte text", b.Len(), len(tt.text))
			}
			if min := (len(tt.text) + cache.ReplayPiece - 1) / cache.ReplayPiece; pieces < min || pieces > min+1 {
				t.Errorf("%d pieces for %d bytes", pieces, len(tt.text))
			}
		})
	}
}

func TestReplayCitationsBeforeText(t *testing.T) {
	tests := []struct {
		name      string
		citations string
		want      []string
	}{
		{"array", `[{"type":"a","n":1}, {"type":"b"}]`, []string{`{"type":"a","n":1}`, `{"type":"b"}`}},
		{"not an array", `{"type":"one"}`, []string{`{"type":"one"}`}},
		{"empty array", `[]`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := &llm.Response{Choices: []llm.Choice{{Message: llm.Message{Parts: []llm.Part{
				{Kind: llm.PartText, Text: "cited", Citations: json.RawMessage(tt.citations), CitationsFormat: "anthropic"},
			}}, FinishReason: llm.FinishStop}}}
			chunks, err := recvAll(t, cache.Replay(resp))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			textSeen := false
			for _, c := range chunks {
				for _, d := range c.Deltas {
					if d.Citation != nil {
						if textSeen {
							t.Error("citation after the text")
						}
						if d.CitationFormat != "anthropic" {
							t.Errorf("CitationFormat = %q", d.CitationFormat)
						}
						got = append(got, string(d.Citation))
					}
					textSeen = textSeen || d.Text != ""
				}
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("citations (-got +want):\n%s", diff)
			}
		})
	}
}

func TestReplaySkipsWhatStreamsCannotCarry(t *testing.T) {
	resp := &llm.Response{Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
		{Kind: llm.PartImage, Media: &llm.Media{URL: "https://example.com/a.png"}},
		{Kind: llm.PartOpaque, Raw: json.RawMessage(`{"type":"server_tool_use"}`), RawFormat: "anthropic"},
		llm.TextPart("kept"),
	}}, FinishReason: llm.FinishStop}}}
	chunks, err := recvAll(t, cache.Replay(resp))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := collectAll(1<<10, chunks)
	if !ok {
		t.Fatal("not collectible")
	}
	want := []llm.Part{llm.TextPart("kept")}
	if diff := cmp.Diff(got.Choices[0].Message.Parts, want); diff != "" {
		t.Errorf("parts (-got +want):\n%s", diff)
	}
}

func TestReplayEdgeCases(t *testing.T) {
	t.Run("nil response", func(t *testing.T) {
		if c, err := cache.Replay(nil).Recv(); c != nil || err != io.EOF {
			t.Errorf("Recv = %v, %v; want io.EOF", c, err)
		}
	})
	t.Run("zero usage sends no usage chunk", func(t *testing.T) {
		chunks, _ := recvAll(t, cache.Replay(&llm.Response{ID: "x", Choices: []llm.Choice{{FinishReason: llm.FinishStop}}}))
		if len(chunks) != 2 {
			t.Fatalf("%d chunks, want roles + finish", len(chunks))
		}
		for _, c := range chunks {
			if c.Usage != nil {
				t.Errorf("usage chunk %+v", c)
			}
		}
	})
}

// chunkOf makes a chunk of deltas.
func chunkOf(deltas ...llm.Delta) *llm.Chunk { return &llm.Chunk{ID: "id", Model: "m", Deltas: deltas} }

func TestCollectorRefuses(t *testing.T) {
	finish := llm.Delta{FinishReason: llm.FinishStop}
	tests := []struct {
		name     string
		maxBytes int
		chunks   []*llm.Chunk
		// stopAt is the index of the chunk whose Add returns false; -1 if
		// every Add succeeds (and only Response refuses).
		stopAt int
	}{
		{"empty stream", 100, nil, -1},
		{"no finish reason", 100, []*llm.Chunk{chunkOf(llm.Delta{Role: llm.RoleAssistant, Text: "cut"})}, -1},
		{"one choice of two unfinished", 1000, []*llm.Chunk{
			chunkOf(llm.Delta{Index: 0, Text: "a"}, llm.Delta{Index: 1, Text: "b"}),
			chunkOf(llm.Delta{Index: 0, FinishReason: llm.FinishStop}),
		}, -1},
		{"oversized", 300, []*llm.Chunk{
			chunkOf(llm.Delta{Text: strings.Repeat("x", 50)}),
			chunkOf(llm.Delta{Text: strings.Repeat("x", 100)}),
			chunkOf(llm.Delta{Text: strings.Repeat("x", 100)}),
			chunkOf(finish),
		}, 2},
		{"oversized tool arguments", 200, []*llm.Chunk{
			chunkOf(llm.Delta{ToolCalls: []llm.ToolCallDelta{{ID: "c", Name: "f", Arguments: strings.Repeat("{", 300)}}}),
			chunkOf(finish),
		}, 0},
		{"raw delta", 1000, []*llm.Chunk{
			chunkOf(llm.Delta{Text: "a"}),
			chunkOf(llm.Delta{Raw: json.RawMessage(`{"type":"content_block_start"}`), RawFormat: "anthropic"}),
			chunkOf(finish),
		}, 1},
		{"citation delta", 1000, []*llm.Chunk{
			chunkOf(llm.Delta{Citation: json.RawMessage(`{"cited_text":"x"}`), CitationFormat: "anthropic"}),
			chunkOf(finish),
		}, 0},
		{"logprobs not an object", 1000, []*llm.Chunk{chunkOf(llm.Delta{Text: "a", Logprobs: json.RawMessage(`[1]`)}), chunkOf(finish)}, 0},
		{"logprobs field not an array", 1000, []*llm.Chunk{chunkOf(llm.Delta{Text: "a", Logprobs: json.RawMessage(`{"content":5}`)}), chunkOf(finish)}, 0},
		{"negative choice index", 1000, []*llm.Chunk{chunkOf(llm.Delta{Index: -1, FinishReason: llm.FinishStop})}, 0},
		{"choice index too high", 1000, []*llm.Chunk{chunkOf(llm.Delta{Index: cache.MaxChoiceIndex + 1, FinishReason: llm.FinishStop})}, 0},
		{"many empty tool calls", 1000, func() []*llm.Chunk {
			var out []*llm.Chunk
			for i := range 100 {
				out = append(out, chunkOf(llm.Delta{ToolCalls: []llm.ToolCallDelta{{Index: i}}}))
			}
			return append(out, chunkOf(finish))
		}(), 29},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cache.NewCollector(tt.maxBytes)
			stopped := -1
			for i, ch := range tt.chunks {
				if !c.Add(ch) && stopped < 0 {
					stopped = i
				}
			}
			if stopped != tt.stopAt {
				t.Errorf("Add first returned false at chunk %d, want %d", stopped, tt.stopAt)
			}
			if stopped >= 0 && c.Add(chunkOf(llm.Delta{Text: "more"})) {
				t.Error("Add returned true after collecting stopped")
			}
			if resp, ok := c.Response(); ok || resp != nil {
				t.Errorf("Response = %+v, true; want refusal", resp)
			}
		})
	}
}

func TestCollectorAssembles(t *testing.T) {
	usage1, usage2 := llm.Usage{InputTokens: 10}, llm.Usage{InputTokens: 10, OutputTokens: 7}
	chunks := []*llm.Chunk{
		{ID: "first-id", Model: "m1", Usage: &usage1,
			Deltas: []llm.Delta{{Reasoning: "thin"}}},
		{ID: "later-id", Model: "m2", Created: 5, SystemFingerprint: "fp", ServiceTier: "flex",
			Deltas: []llm.Delta{{Reasoning: "king"}, {Index: 1, Role: llm.RoleAssistant, Text: "other"}}},
		chunkOf(llm.Delta{ReasoningSignature: "s1"}),
		chunkOf(llm.Delta{Reasoning: "again"}),
		chunkOf(llm.Delta{Text: "Hel"}, llm.Delta{Text: "lo"}),
		chunkOf(llm.Delta{ToolCalls: []llm.ToolCallDelta{{Index: 3, Type: "function", Name: "a", Arguments: `{"x"`}}}),
		chunkOf(llm.Delta{ToolCalls: []llm.ToolCallDelta{{Index: 7, ID: "c7", Name: "b", Arguments: `{`}, {Index: 3, ID: "c3", Arguments: `:1}`}}}),
		chunkOf(llm.Delta{ToolCalls: []llm.ToolCallDelta{{Index: 7, Arguments: `}`}}}),
		chunkOf(llm.Delta{Text: "after"}, llm.Delta{Index: 1, Refusal: "no"}),
		chunkOf(llm.Delta{RedactedReasoning: "r1"}, llm.Delta{Index: 1, FinishReason: llm.FinishContentFilter}),
		chunkOf(llm.Delta{ReasoningSignature: "lone"}),
		chunkOf(llm.Delta{Logprobs: json.RawMessage(`{"content":[1],"refusal":null}`)}),
		chunkOf(llm.Delta{Logprobs: json.RawMessage(`{"content":[2, 3],"refusal":null}`), FinishReason: llm.FinishToolCalls, StopSequence: "END"}),
		{Usage: &usage2},
	}
	want := &llm.Response{ID: "first-id", Model: "m1", Created: 5, SystemFingerprint: "fp", ServiceTier: "flex", Usage: usage2,
		Choices: []llm.Choice{
			{Index: 0, Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
				{Kind: llm.PartReasoning, Text: "thinking", Signature: "s1"},
				{Kind: llm.PartReasoning, Text: "again"},
				llm.TextPart("Hello"),
				{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "c3", Type: "function", Name: "a", Arguments: `{"x":1}`}},
				{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "c7", Name: "b", Arguments: `{}`}},
				llm.TextPart("after"),
				{Kind: llm.PartRedacted, Signature: "r1"},
				{Kind: llm.PartReasoning, Signature: "lone"},
			}}, FinishReason: llm.FinishToolCalls, StopSequence: "END",
				Logprobs: json.RawMessage(`{"content":[1,2,3],"refusal":null}`)},
			{Index: 1, Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
				llm.TextPart("other"), {Kind: llm.PartRefusal, Text: "no"},
			}}, FinishReason: llm.FinishContentFilter},
		}}
	got, ok := collectAll(1<<10, chunks)
	if !ok {
		t.Fatal("Response refused")
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("collected (-got +want):\n%s", diff)
	}
	// Each Response is new: changing one leaves the next intact.
	c := cache.NewCollector(1 << 10)
	for _, ch := range chunks {
		c.Add(ch)
	}
	r1, _ := c.Response()
	r1.Choices[0].Logprobs[0] = 'X'
	r1.Choices[0].Message.Parts[0].Text = "changed"
	if r2, _ := c.Response(); cmp.Diff(r2, want) != "" {
		t.Error("changing one Response changed the next")
	}
}

func TestCloneChunk(t *testing.T) {
	if cache.CloneChunk(nil) != nil {
		t.Error("CloneChunk(nil) != nil")
	}
	u := llm.Usage{InputTokens: 3}
	orig := &llm.Chunk{ID: "a", Usage: &u, Deltas: []llm.Delta{{
		Text: "t", ToolCalls: []llm.ToolCallDelta{{ID: "c", Arguments: "{}"}},
		Logprobs: json.RawMessage(`{"content":[]}`), Citation: json.RawMessage(`{}`), Raw: json.RawMessage(`{"r":1}`),
	}, {Text: "no slices"}}}
	clone := cache.CloneChunk(orig)
	want := cache.CloneChunk(orig)
	// Scribble over everything orig's slices and pointers reach.
	u.InputTokens = -1
	d := &orig.Deltas[0]
	d.ToolCalls[0].ID = "changed"
	d.Logprobs[0], d.Citation[0], d.Raw[0] = 'X', 'X', 'X'
	orig.Deltas[1].Text = "changed"
	if diff := cmp.Diff(clone, want); diff != "" {
		t.Errorf("clone changed with its original (-got +want):\n%s", diff)
	}
	one := &llm.Chunk{Deltas: []llm.Delta{{Text: "one", ToolCalls: []llm.ToolCallDelta{{ID: "c"}}, Raw: json.RawMessage(`{}`)}}}
	oneClone := cache.CloneChunk(one)
	one.Deltas[0].Text, one.Deltas[0].ToolCalls[0].ID, one.Deltas[0].Raw[0] = "changed", "changed", 'X'
	if d := oneClone.Deltas[0]; d.Text != "one" || d.ToolCalls[0].ID != "c" || string(d.Raw) != `{}` || len(oneClone.Deltas) != 1 {
		t.Errorf("one-delta clone changed with its original: %+v", oneClone)
	}
	if c := cache.CloneChunk(&llm.Chunk{}); c.Deltas != nil || c.Usage != nil {
		t.Errorf("nil slices became %+v", c)
	}
}

func TestCollectorIgnoresNilChunkAndNullLogprobs(t *testing.T) {
	c := cache.NewCollector(100)
	if !c.Add(nil) || !c.Add(chunkOf(llm.Delta{Text: "a", Logprobs: json.RawMessage(`null`), FinishReason: llm.FinishStop})) {
		t.Fatal("Add refused")
	}
	resp, ok := c.Response()
	if !ok || resp.Choices[0].Logprobs != nil {
		t.Fatalf("Response = %+v, %v; want no logprobs", resp, ok)
	}
}
