package cache

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sluicehq/sluice/internal/llm"
)

// richEntry returns an entry whose response uses every feature a provider
// answer can have: several choices, tool calls, reasoning with a
// signature, a refusal, logprobs, citations, every usage count, a stop
// sequence and a fingerprint.
func richEntry() *Entry {
	return &Entry{
		Model: "smart", Provider: "openai-main", Upstream: "gpt-4.1",
		Created: time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, time.UTC),
		Response: &llm.Response{
			ID: "chatcmpl-123", Model: "gpt-4.1-2026-01-01", Created: 1_770_000_000,
			Choices: []llm.Choice{
				{
					Index: 0,
					Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
						{Kind: llm.PartReasoning, Text: "The user wants weather.", Signature: "sig=="},
						{Kind: llm.PartRedacted, Signature: "opaque-blob"},
						{Kind: llm.PartText, Text: "Let me check. ☀️", Citations: json.RawMessage(`[{"type":"url_citation","url":"https://x"}]`), CitationsFormat: "openai"},
						{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_1", Type: "function", Name: "weather", Arguments: `{"city":"Paris"}`}},
						{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_2", Type: "function", Name: "time", Arguments: `{"tz":`}},
					}},
					FinishReason: llm.FinishToolCalls,
					Logprobs:     json.RawMessage(`{"content":[{"token":"Let","logprob":-0.01}]}`),
				},
				{
					Index:        1,
					Message:      llm.Message{Role: llm.RoleAssistant, Name: "bot", Parts: []llm.Part{{Kind: llm.PartRefusal, Text: "I can't help with that."}}},
					FinishReason: llm.FinishContentFilter,
				},
				{
					Index: 2,
					Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
						llm.TextPart("partial"),
						{Kind: llm.PartImage, Media: &llm.Media{MIMEType: "image/png", Data: "iVBORw0KGgo="}},
						{Kind: llm.PartOpaque, Raw: json.RawMessage(`{"type":"server_tool_result"}`), RawFormat: "anthropic"},
					}},
					FinishReason: llm.FinishStop,
					StopSequence: "\n\nHuman:",
					Logprobs:     json.RawMessage{},
				},
			},
			Usage: llm.Usage{InputTokens: 1200, OutputTokens: 340, CachedInputTokens: 1000, CacheWriteTokens: 150,
				ReasoningTokens: 80, AudioInputTokens: 7, AudioOutputTokens: 9},
			SystemFingerprint: "fp_abc123",
			ServiceTier:       "default",
		},
	}
}

func encodeEntry(t testing.TB, e *Entry) []byte {
	t.Helper()
	b, err := e.AppendBinary(nil)
	if err != nil {
		t.Fatalf("AppendBinary: %v", err)
	}
	return b
}

func TestEntryRoundTrip(t *testing.T) {
	filled := new(llm.Response)
	(&fieldFiller{}).fill(reflect.ValueOf(filled).Elem(), false)
	nested := &llm.Response{Choices: []llm.Choice{{Message: llm.Message{Parts: []llm.Part{{ToolResult: &llm.ToolResult{
		Parts: []llm.Part{{ToolResult: &llm.ToolResult{Parts: []llm.Part{}, IsError: true}}}}}}}}}}
	cases := map[string]*Entry{
		"rich": richEntry(),
		// every field of every type in a response set: a field added to
		// llm.Response fails here until the codec keeps it
		"every field":        {Model: "m", Response: filled},
		"zero response":      {Response: &llm.Response{}},
		"empty not nil":      {Response: &llm.Response{Choices: []llm.Choice{{Message: llm.Message{Parts: []llm.Part{}}}}}},
		"nested tool result": {Response: nested},
		"negative numbers":   {Created: time.UnixMilli(-5), Response: &llm.Response{Created: -1, Usage: llm.Usage{InputTokens: -3}}},
		"long text":          {Response: &llm.Response{Choices: []llm.Choice{{Message: llm.Message{Parts: []llm.Part{llm.TextPart(strings.Repeat("ab", 70_000))}}}}}},
	}
	for name, e := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := DecodeEntry(encodeEntry(t, e))
			if err != nil {
				t.Fatalf("DecodeEntry: %v", err)
			}
			if diff := cmp.Diff(got, e); diff != "" {
				t.Errorf("round trip (-got +want):\n%s", diff)
			}
		})
	}
}

func TestEntryCreatedKeepsMilliseconds(t *testing.T) {
	e := richEntry()
	e.Created = time.Date(2026, 1, 2, 3, 4, 5, 123_456_789, time.FixedZone("X", 3600))
	got, err := DecodeEntry(encodeEntry(t, e))
	if err != nil {
		t.Fatal(err)
	}
	if want := e.Created.Truncate(time.Millisecond); !got.Created.Equal(want) {
		t.Errorf("Created = %v, want %v", got.Created, want)
	}
	if zero, err := DecodeEntry(encodeEntry(t, &Entry{Response: &llm.Response{}})); err != nil || !zero.Created.IsZero() {
		t.Errorf("zero Created decodes to %v (err %v), want the zero time", zero.Created, err)
	}
}

func TestAppendBinary(t *testing.T) {
	if _, err := (&Entry{}).AppendBinary(nil); err == nil {
		t.Error("AppendBinary of an entry without a response succeeded")
	}
	if _, err := (*Entry)(nil).AppendBinary(nil); err == nil {
		t.Error("AppendBinary of a nil entry succeeded")
	}
	prefix := []byte("keep me")
	b, err := richEntry().AppendBinary(bytes.Clone(prefix))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, prefix) {
		t.Errorf("AppendBinary overwrote dst: %q", b[:len(prefix)])
	}
	if _, err := DecodeEntry(b[len(prefix):]); err != nil {
		t.Errorf("decode after a prefix: %v", err)
	}
	if again := encodeEntry(t, richEntry()); !bytes.Equal(again, b[len(prefix):]) {
		t.Error("the encoding is not deterministic")
	}
}

// entryHeader is the encoding's fixed start.
const entryHeader = entryMagic + "\x01"

// corruptEntries are malformed inputs DecodeEntry must refuse; the fuzz
// target is seeded with them too.
func corruptEntries(t testing.TB) map[string][]byte {
	valid := encodeEntry(t, richEntry())
	huge := binary.AppendUvarint(nil, 1<<40)
	deep := &llm.Part{Kind: "x"}
	for range entryMaxDepth + 1 {
		deep = &llm.Part{ToolResult: &llm.ToolResult{Parts: []llm.Part{*deep}}}
	}
	deepEntry := &Entry{Response: &llm.Response{Choices: []llm.Choice{{Message: llm.Message{Parts: []llm.Part{*deep}}}}}}
	withBool := func(b byte) []byte { // a tool-call flag that is neither 0 nor 1
		e := &Entry{Response: &llm.Response{Choices: []llm.Choice{{Message: llm.Message{Parts: []llm.Part{{}}}}}}}
		enc := encodeEntry(t, e)
		i := bytes.Index(enc, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}) // the empty part
		enc[i+2] = b                                                   // its Media flag
		return enc
	}
	return map[string][]byte{
		"nil":             nil,
		"empty":           {},
		"magic only":      []byte(entryMagic),
		"wrong magic":     append([]byte("SLCX\x01"), valid[5:]...),
		"version 0":       append([]byte(entryMagic+"\x00"), valid[5:]...),
		"version 2":       append([]byte(entryMagic+"\x02"), valid[5:]...),
		"header only":     []byte(entryHeader),
		"trailing byte":   append(bytes.Clone(valid), 0),
		"json":            []byte(`{"Model":"m","Response":{}}`),
		"huge string":     append([]byte(entryHeader), huge...),
		"huge count":      append([]byte(entryHeader+"\x00\x00\x00\x00\x00\x00\x00"), huge...),
		"count too big":   append([]byte(entryHeader+"\x00\x00\x00\x00\x00\x00\x00\x7f"), make([]byte, 100)...),
		"varint overflow": append([]byte(entryHeader+"\x00\x00\x00"), bytes.Repeat([]byte{0xff}, 11)...),
		"varint 10 bytes": append([]byte(entryHeader+"\x00\x00\x00"), append(bytes.Repeat([]byte{0xff}, 9), 0x02)...),
		"bool byte 2":     withBool(2),
		"bool byte 255":   withBool(255),
		"too deep":        encodeEntry(t, deepEntry),
	}
}

func TestDecodeEntryRejects(t *testing.T) {
	for name, b := range corruptEntries(t) {
		t.Run(name, func(t *testing.T) {
			if e, err := DecodeEntry(b); err == nil {
				t.Errorf("DecodeEntry accepted it: %+v", e)
			} else if !strings.HasPrefix(err.Error(), "cache: decode entry: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

// TestDecodeEntryRejectsEveryTruncation cuts a valid encoding at every
// length: none of the prefixes may decode.
func TestDecodeEntryRejectsEveryTruncation(t *testing.T) {
	valid := encodeEntry(t, richEntry())
	for n := range len(valid) {
		if _, err := DecodeEntry(valid[:n]); err == nil {
			t.Fatalf("a prefix of %d of %d bytes decoded", n, len(valid))
		}
	}
}

// TestDecodeEntryDoesNotAlias checks that the decoded entry does not share
// memory with the input, which a Backend may reuse.
func TestDecodeEntryDoesNotAlias(t *testing.T) {
	b := encodeEntry(t, richEntry())
	e, err := DecodeEntry(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 'X'
	}
	if diff := cmp.Diff(e, richEntry()); diff != "" {
		t.Errorf("entry changed with its input (-got +want):\n%s", diff)
	}
}

// TestEntryErrorRoundTrip stores a provider's refusal and reads back what
// a cached error keeps.
func TestEntryErrorRoundTrip(t *testing.T) {
	in := &Entry{Model: "m", Provider: "oai", Upstream: "gpt", Created: time.UnixMilli(1700000000123).UTC(),
		Error: &llm.Error{Status: 400, Type: llm.TypeInvalidRequest, Code: "context_length_exceeded", Param: "messages",
			Message: "too long", Provider: "oai", Fault: llm.FaultCaller}}
	b, err := in.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := DecodeEntry(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, out); diff != "" {
		t.Errorf("round trip (-in +out):\n%s", diff)
	}
	if _, err := (&Entry{Response: &llm.Response{}, Error: in.Error}).AppendBinary(nil); err == nil {
		t.Error("an entry with both a response and an error encoded")
	}
	bad := append([]byte(nil), b...)
	bad[len(entryMagic)+1+3+len("m")+len("oai")+len("gpt")+6] = 7 // the kind byte
	if _, err := DecodeEntry(bad); err == nil {
		t.Error("an unknown entry kind decoded")
	}
}
