package openai

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/internal/llm"
)

// decodeMessages converts the wire messages. All parts, tool calls and tool
// results are carved out of three shared backing arrays (each message's
// slice is capped, so appending to one never touches its neighbour): a
// request costs a handful of allocations, not several per message. When
// the messages and parts fit in room (which may be nil), they use it.
func decodeMessages(ws []messageWire, room *messageRoom) ([]llm.Message, error) {
	nParts, nCalls, nResults := 0, 0, 0
	for i := range ws {
		w := &ws[i]
		// At most: the content, a refusal, audio, the tool calls and a
		// tool result.
		if c := &w.Content; c.present {
			nParts += len(c.parts)
			if c.isText {
				nParts++
			}
		}
		if w.Refusal != "" {
			nParts++
		}
		if w.Audio != nil {
			nParts++
		}
		nParts += len(w.ToolCalls)
		nCalls += len(w.ToolCalls)
		if w.Role == "tool" {
			nResults++
			nParts++
		}
	}
	d := messageDecoder{
		calls:   make([]llm.ToolCall, 0, nCalls),
		results: make([]llm.ToolResult, 0, nResults),
	}
	var msgs []llm.Message
	if room != nil && nParts <= len(room.parts) {
		d.parts = room.parts[:0:nParts]
	} else {
		d.parts = make([]llm.Part, 0, nParts)
	}
	if room != nil && len(ws) <= len(room.msgs) {
		msgs = room.msgs[:len(ws):len(ws)]
	} else {
		msgs = make([]llm.Message, len(ws))
	}
	for i := range ws {
		if err := d.message(i, &ws[i], &msgs[i]); err != nil {
			return nil, err
		}
	}
	return msgs, nil
}

// messageRoom is storage for the messages of a small request, allocated
// with it (see requestBlock).
type messageRoom struct {
	msgs  [4]llm.Message
	parts [4]llm.Part
}

type messageDecoder struct {
	parts   []llm.Part
	calls   []llm.ToolCall
	results []llm.ToolResult
}

// take returns the parts appended since start, capped.
func (d *messageDecoder) take(start int) []llm.Part {
	if len(d.parts) == start {
		return nil
	}
	return d.parts[start:len(d.parts):len(d.parts)]
}

func (d *messageDecoder) message(i int, w *messageWire, m *llm.Message) error {
	role := llm.Role(w.Role)
	switch {
	case w.Role == "":
		return missing(fmt.Sprintf("messages[%d].role", i))
	case w.Role == "function":
		return invalidValue(fmt.Sprintf("messages[%d].role", i),
			"the deprecated 'function' role is not supported; use 'tool' messages with tool_call_id")
	case !role.Valid():
		return invalidValue(fmt.Sprintf("messages[%d].role", i),
			"expected one of 'system', 'developer', 'user', 'assistant' or 'tool', got %q", w.Role)
	}
	if w.FunctionCall != nil {
		return invalidValue(fmt.Sprintf("messages[%d].function_call", i),
			"the deprecated 'function_call' is not supported; use 'tool_calls'")
	}
	m.Role, m.Name = role, w.Name
	start := len(d.parts)
	switch role {
	case llm.RoleAssistant:
		if err := d.assistant(i, w); err != nil {
			return err
		}
	case llm.RoleTool:
		if w.ToolCallID == nil || *w.ToolCallID == "" {
			return missing(fmt.Sprintf("messages[%d].tool_call_id", i))
		}
		if !w.Content.present {
			return missing(fmt.Sprintf("messages[%d].content", i))
		}
		// The result part comes first; its content parts follow it in the
		// shared array and become the result's own parts.
		d.parts = append(d.parts, llm.Part{Kind: llm.PartToolResult})
		if err := d.content(i, w, role); err != nil {
			return err
		}
		d.results = append(d.results, llm.ToolResult{CallID: *w.ToolCallID, Parts: d.take(start + 1)})
		d.parts[start].ToolResult = &d.results[len(d.results)-1]
		m.Parts = d.parts[start : start+1 : start+1]
	default:
		if !w.Content.present {
			return missing(fmt.Sprintf("messages[%d].content", i))
		}
		if err := d.content(i, w, role); err != nil {
			return err
		}
	}
	if role != llm.RoleTool {
		m.Parts = d.take(start)
	}
	if w.CacheControl != nil && len(m.Parts) > 0 {
		// A message-level hint applies to its last block, as Anthropic's
		// own message-level caching does.
		m.Parts[len(m.Parts)-1].CacheControl = json.RawMessage(w.CacheControl)
	}
	return nil
}

func (d *messageDecoder) assistant(i int, w *messageWire) error {
	if w.Content.present && !(w.Content.isText && w.Content.text == "" && len(w.ToolCalls) > 0) {
		if err := d.content(i, w, llm.RoleAssistant); err != nil {
			return err
		}
	}
	if w.Refusal != "" {
		d.parts = append(d.parts, llm.Part{Kind: llm.PartRefusal, Text: w.Refusal})
	}
	if w.Audio != nil {
		if w.Audio.ID == "" {
			return missing(fmt.Sprintf("messages[%d].audio.id", i))
		}
		d.parts = append(d.parts, llm.Part{Kind: llm.PartAudio, Media: &llm.Media{FileID: w.Audio.ID}})
	}
	for j := range w.ToolCalls {
		c := &w.ToolCalls[j]
		if c.ID == "" {
			return missing(fmt.Sprintf("messages[%d].tool_calls[%d].id", i, j))
		}
		var tc llm.ToolCall
		switch c.Type {
		case "function", "":
			if c.Function == nil || c.Function.Name == "" {
				return missing(fmt.Sprintf("messages[%d].tool_calls[%d].function.name", i, j))
			}
			tc = llm.ToolCall{ID: c.ID, Type: "function", Name: c.Function.Name, Arguments: string(c.Function.Arguments)}
		case "custom":
			if c.Custom == nil || c.Custom.Name == "" {
				return missing(fmt.Sprintf("messages[%d].tool_calls[%d].custom.name", i, j))
			}
			tc = llm.ToolCall{ID: c.ID, Type: "custom", Name: c.Custom.Name, Arguments: c.Custom.Input}
		default:
			return invalidValue(fmt.Sprintf("messages[%d].tool_calls[%d].type", i, j),
				"expected 'function' or 'custom', got %q", c.Type)
		}
		d.calls = append(d.calls, tc)
		d.parts = append(d.parts, llm.Part{Kind: llm.PartToolCall, ToolCall: &d.calls[len(d.calls)-1]})
	}
	return nil
}

// content appends the parts of w's content, checking each part is allowed
// for role: system and developer messages hold text; assistant messages
// text and refusals; tool results text and images; user messages text,
// images, audio and files.
func (d *messageDecoder) content(i int, w *messageWire, role llm.Role) error {
	c := &w.Content
	if !c.present {
		return nil
	}
	if c.isText {
		d.parts = append(d.parts, llm.Part{Kind: llm.PartText, Text: c.text})
		return nil
	}
	if len(c.parts) == 0 {
		return invalidValue(fmt.Sprintf("messages[%d].content", i), "expected at least one content part, got an empty array")
	}
	for j := range c.parts {
		p, err := contentPart(i, j, &c.parts[j], role)
		if err != nil {
			return err
		}
		d.parts = append(d.parts, p)
	}
	return nil
}

func contentPart(i, j int, w *partWire, role llm.Role) (llm.Part, error) {
	param := func(field string) string { return fmt.Sprintf("messages[%d].content[%d]%s", i, j, field) }
	allowed := "'text'"
	switch role {
	case llm.RoleUser:
		allowed = "'text', 'image_url', 'input_audio' or 'file'"
	case llm.RoleAssistant:
		allowed = "'text' or 'refusal'"
	case llm.RoleTool:
		allowed = "'text' or 'image_url'"
	}
	if !strings.Contains(allowed, "'"+w.Type+"'") || w.Type == "" {
		if w.Type == "" {
			return llm.Part{}, missing(param(".type"))
		}
		return llm.Part{}, invalidValue(param(".type"), "expected %s in a %s message, got %q", allowed, role, w.Type)
	}
	p := llm.Part{CacheControl: json.RawMessage(w.CacheControl)}
	switch w.Type {
	case "text":
		if w.Text == nil {
			return p, missing(param(".text"))
		}
		p.Kind, p.Text = llm.PartText, *w.Text
	case "refusal":
		if w.Refusal == nil {
			return p, missing(param(".refusal"))
		}
		p.Kind, p.Text = llm.PartRefusal, *w.Refusal
	case "image_url":
		if w.ImageURL == nil || w.ImageURL.URL == "" {
			return p, missing(param(".image_url.url"))
		}
		p.Kind = llm.PartImage
		p.Media = &llm.Media{URL: w.ImageURL.URL, Detail: w.ImageURL.Detail, MIMEType: dataURLType(w.ImageURL.URL)}
	case "input_audio":
		a := w.InputAudio
		if a == nil || a.Data == "" {
			return p, missing(param(".input_audio.data"))
		}
		if a.Format == "" {
			return p, missing(param(".input_audio.format"))
		}
		p.Kind = llm.PartAudio
		p.Media = &llm.Media{Data: a.Data, Format: a.Format, MIMEType: audioMIME(a.Format)}
	case "file":
		f := w.File
		if f == nil || f.FileData == "" && f.FileID == "" {
			return p, missing(param(".file.file_data"))
		}
		p.Kind = llm.PartFile
		p.Media = &llm.Media{Filename: f.Filename, FileID: f.FileID}
		if strings.HasPrefix(f.FileData, "data:") {
			p.Media.URL, p.Media.MIMEType = f.FileData, dataURLType(f.FileData)
		} else {
			p.Media.Data = f.FileData
		}
	}
	return p, nil
}

// dataURLType returns the media type of a data: URL ("data:image/png;base64,…"
// gives "image/png"), or "" for any other URL.
func dataURLType(u string) string {
	if !strings.HasPrefix(u, "data:") {
		return ""
	}
	rest := u[len("data:"):]
	if i := strings.IndexAny(rest, ";,"); i >= 0 {
		return rest[:i]
	}
	return ""
}

// dataURLPayload returns the base64 payload of a base64 data: URL.
func dataURLPayload(u string) (string, bool) {
	if !strings.HasPrefix(u, "data:") {
		return "", false
	}
	i := strings.IndexByte(u, ',')
	if i < 0 || !strings.HasSuffix(u[:i], ";base64") {
		return "", false
	}
	return u[i+1:], true
}

// audioMIME maps OpenAI's input_audio formats to media types.
func audioMIME(format string) string {
	switch format {
	case "wav":
		return "audio/wav"
	case "mp3":
		return "audio/mpeg"
	}
	return ""
}
