package openai

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
)

// appendMessages writes the messages array. A RoleTool message becomes one
// "tool" message per result (OpenAI carries one result per message).
func appendMessages(dst []byte, msgs []llm.Message, q quirks, provider string) ([]byte, error) {
	dst = append(dst, '[')
	n := 0
	var err error
	for i := range msgs {
		m := &msgs[i]
		if m.Role == llm.RoleTool {
			for j := range m.Parts {
				p := &m.Parts[j]
				if p.Kind != llm.PartToolResult || p.ToolResult == nil {
					return nil, unsupportedPart(provider, i, j, p.Kind, m.Role)
				}
				if n++; n > 1 {
					dst = append(dst, ',')
				}
				if dst, err = appendToolResult(dst, m, p.ToolResult, i, provider); err != nil {
					return nil, err
				}
			}
			continue
		}
		if n++; n > 1 {
			dst = append(dst, ',')
		}
		switch m.Role {
		case llm.RoleAssistant:
			dst, err = appendAssistant(dst, m, i, provider)
		case llm.RoleSystem, llm.RoleDeveloper, llm.RoleUser:
			role := m.Role
			if role == llm.RoleDeveloper && !q.developerRole {
				role = llm.RoleSystem
			}
			dst = append(dst, `{"role":`...)
			dst = jsonw.AppendString(dst, string(role))
			dst = append(dst, `,"content":`...)
			dst, err = appendContent(dst, m.Parts, m.Role, i, provider)
			dst = appendName(dst, m.Name)
			dst = append(dst, '}')
		default:
			return nil, llm.BadRequest(fmt.Sprintf("messages[%d].role", i), "unknown role %q", m.Role)
		}
		if err != nil {
			return nil, err
		}
	}
	return append(dst, ']'), nil
}

func appendName(dst []byte, name string) []byte {
	if name == "" {
		return dst
	}
	dst = append(dst, `,"name":`...)
	return jsonw.AppendString(dst, name)
}

// appendContent writes a content value: a plain string when parts are a
// single text (or nothing, as ""), otherwise an array of content parts.
// Reasoning parts are dropped.
func appendContent(dst []byte, parts []llm.Part, role llm.Role, i int, provider string) ([]byte, error) {
	kept, text := 0, -1
	for j := range parts {
		switch parts[j].Kind {
		case llm.PartReasoning, llm.PartRedacted:
		case llm.PartText:
			kept++
			text = j
		default:
			kept++
		}
	}
	if kept == 0 {
		return append(dst, `""`...), nil
	}
	if kept == 1 && text >= 0 {
		return jsonw.AppendString(dst, parts[text].Text), nil
	}
	dst = append(dst, '[')
	n := 0
	for j := range parts {
		p := &parts[j]
		if p.Kind == llm.PartReasoning || p.Kind == llm.PartRedacted {
			continue
		}
		if n++; n > 1 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = appendPart(dst, p, role, i, j, provider); err != nil {
			return nil, err
		}
	}
	return append(dst, ']'), nil
}

// appendPart writes one content part in OpenAI's form.
func appendPart(dst []byte, p *llm.Part, role llm.Role, i, j int, provider string) ([]byte, error) {
	switch p.Kind {
	case llm.PartText:
		dst = append(dst, `{"type":"text","text":`...)
		dst = jsonw.AppendString(dst, p.Text)
		return append(dst, '}'), nil
	case llm.PartRefusal:
		if role != llm.RoleAssistant {
			break
		}
		dst = append(dst, `{"type":"refusal","refusal":`...)
		dst = jsonw.AppendString(dst, p.Text)
		return append(dst, '}'), nil
	case llm.PartImage:
		m := p.Media
		if m == nil || role == llm.RoleAssistant {
			break
		}
		dst = append(dst, `{"type":"image_url","image_url":{"url":`...)
		if m.URL != "" {
			dst = jsonw.AppendString(dst, m.URL)
		} else {
			dst = appendDataURL(dst, m.MIMEType, m.Data)
		}
		if m.Detail != "" {
			dst = append(dst, `,"detail":`...)
			dst = jsonw.AppendString(dst, m.Detail)
		}
		return append(dst, "}}"...), nil
	case llm.PartAudio:
		m := p.Media
		if m == nil || role != llm.RoleUser {
			break
		}
		data, format := m.Data, m.Format
		if data == "" {
			var ok bool
			if data, ok = dataURLPayload(m.URL); !ok {
				break // OpenAI takes audio inline only
			}
		}
		if format == "" {
			mime := m.MIMEType
			if mime == "" {
				mime = dataURLType(m.URL)
			}
			format = audioFormat(mime)
		}
		dst = append(dst, `{"type":"input_audio","input_audio":{"data":`...)
		dst = jsonw.AppendString(dst, data)
		dst = append(dst, `,"format":`...)
		dst = jsonw.AppendString(dst, format)
		return append(dst, "}}"...), nil
	case llm.PartFile:
		m := p.Media
		if m == nil || role != llm.RoleUser {
			break
		}
		dst = append(dst, `{"type":"file","file":{`...)
		switch {
		case m.FileID != "":
			dst = jsonw.AppendKey(dst, "file_id")
			dst = jsonw.AppendString(dst, m.FileID)
		case m.URL != "":
			if _, ok := dataURLPayload(m.URL); !ok {
				return nil, llm.Unsupported(provider, fmt.Sprintf("messages[%d].content[%d].file.url", i, j))
			}
			dst = jsonw.AppendKey(dst, "file_data")
			dst = jsonw.AppendString(dst, m.URL)
		default:
			dst = jsonw.AppendKey(dst, "file_data")
			if m.MIMEType != "" {
				dst = appendDataURL(dst, m.MIMEType, m.Data)
			} else {
				dst = jsonw.AppendString(dst, m.Data)
			}
		}
		if m.Filename != "" {
			dst = jsonw.AppendKey(dst, "filename")
			dst = jsonw.AppendString(dst, m.Filename)
		}
		return append(dst, "}}"...), nil
	}
	return nil, unsupportedPart(provider, i, j, p.Kind, role)
}

func unsupportedPart(provider string, i, j int, kind llm.PartKind, role llm.Role) *llm.Error {
	e := llm.Unsupported(provider, fmt.Sprintf("messages[%d].content[%d]", i, j))
	e.Message = fmt.Sprintf("a %s part in a %s message cannot be sent to provider %q", kind, role, provider)
	return e
}

// appendDataURL writes "data:<mime>;base64,<data>" as a JSON string.
func appendDataURL(dst []byte, mime, data string) []byte {
	dst = append(dst, `"data:`...)
	dst = jsonw.AppendEscaped(dst, mime)
	dst = append(dst, ";base64,"...)
	dst = jsonw.AppendEscaped(dst, data)
	return append(dst, '"')
}

// audioFormat maps a media type to OpenAI's input_audio format.
func audioFormat(mime string) string {
	switch mime {
	case "audio/wav", "audio/x-wav", "audio/wave":
		return "wav"
	case "audio/mpeg", "audio/mp3":
		return "mp3"
	}
	return "wav"
}

func appendAssistant(dst []byte, m *llm.Message, i int, provider string) ([]byte, error) {
	texts, refusals, calls := 0, 0, 0
	var audio *llm.Media
	for j := range m.Parts {
		p := &m.Parts[j]
		switch p.Kind {
		case llm.PartText:
			texts++
		case llm.PartRefusal:
			refusals++
		case llm.PartToolCall:
			if p.ToolCall == nil {
				return nil, unsupportedPart(provider, i, j, p.Kind, m.Role)
			}
			calls++
		case llm.PartReasoning, llm.PartRedacted:
		case llm.PartAudio:
			if p.Media == nil || p.Media.FileID == "" || audio != nil {
				return nil, unsupportedPart(provider, i, j, p.Kind, m.Role)
			}
			audio = p.Media
		default:
			return nil, unsupportedPart(provider, i, j, p.Kind, m.Role)
		}
	}
	dst = append(dst, `{"role":"assistant","content":`...)
	switch {
	case texts == 0 && refusals <= 1:
		if texts == 0 && calls == 0 && refusals == 0 && audio == nil {
			dst = append(dst, `""`...)
		} else {
			dst = append(dst, "null"...)
		}
		if refusals == 1 {
			for j := range m.Parts {
				if m.Parts[j].Kind == llm.PartRefusal {
					dst = append(dst, `,"refusal":`...)
					dst = jsonw.AppendString(dst, m.Parts[j].Text)
				}
			}
		}
	case texts == 1 && refusals == 0:
		for j := range m.Parts {
			if m.Parts[j].Kind == llm.PartText {
				dst = jsonw.AppendString(dst, m.Parts[j].Text)
			}
		}
	default:
		dst = append(dst, '[')
		n := 0
		for j := range m.Parts {
			p := &m.Parts[j]
			if p.Kind != llm.PartText && p.Kind != llm.PartRefusal {
				continue
			}
			if n++; n > 1 {
				dst = append(dst, ',')
			}
			dst, _ = appendPart(dst, p, llm.RoleAssistant, i, j, provider)
		}
		dst = append(dst, ']')
	}
	dst = appendName(dst, m.Name)
	if audio != nil {
		dst = append(dst, `,"audio":{"id":`...)
		dst = jsonw.AppendString(dst, audio.FileID)
		dst = append(dst, '}')
	}
	if calls > 0 {
		dst = append(dst, `,"tool_calls":[`...)
		n := 0
		for j := range m.Parts {
			c := m.Parts[j].ToolCall
			if m.Parts[j].Kind != llm.PartToolCall {
				continue
			}
			if n++; n > 1 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendToolCall(dst, c, i, j, provider); err != nil {
				return nil, err
			}
		}
		dst = append(dst, ']')
	}
	return append(dst, '}'), nil
}

// appendToolCall writes a function or custom tool call. Other types are
// provider built-in tools that OpenAI cannot be shown.
func appendToolCall(dst []byte, c *llm.ToolCall, i, j int, provider string) ([]byte, error) {
	dst = append(dst, `{"id":`...)
	dst = jsonw.AppendString(dst, wireCallID(c.ID))
	switch c.Type {
	case "function", "":
		dst = append(dst, `,"type":"function","function":{"name":`...)
		dst = jsonw.AppendString(dst, c.Name)
		dst = append(dst, `,"arguments":`...)
	case "custom":
		dst = append(dst, `,"type":"custom","custom":{"name":`...)
		dst = jsonw.AppendString(dst, c.Name)
		dst = append(dst, `,"input":`...)
	default:
		return nil, llm.Unsupported(provider, fmt.Sprintf("messages[%d].tool_calls[%d].type", i, j))
	}
	dst = jsonw.AppendString(dst, c.Arguments)
	return append(dst, "}}"...), nil
}

// appendToolResult writes one "tool" message. OpenAI has no error flag for
// results; the content says what happened.
func appendToolResult(dst []byte, m *llm.Message, r *llm.ToolResult, i int, provider string) ([]byte, error) {
	dst = append(dst, `{"role":"tool","content":`...)
	var err error
	if dst, err = appendContent(dst, r.Parts, llm.RoleTool, i, provider); err != nil {
		return nil, err
	}
	dst = append(dst, `,"tool_call_id":`...)
	dst = jsonw.AppendString(dst, wireCallID(r.CallID))
	dst = appendName(dst, m.Name)
	return append(dst, '}'), nil
}

// appendTools writes the tools array. Function tools are written from their
// fields; other tools pass through raw only to an OpenAI-format client's
// own upstream format.
func appendTools(dst []byte, req *llm.Request, provider string) ([]byte, error) {
	dst = append(dst, '[')
	for i := range req.Tools {
		t := &req.Tools[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		if t.Type != "function" && t.Type != "" {
			if req.Format != FormatName || len(t.Raw) == 0 {
				return nil, llm.Unsupported(provider, fmt.Sprintf("tools[%d].type", i))
			}
			dst = append(dst, t.Raw...)
			continue
		}
		dst = append(dst, `{"type":"function","function":{"name":`...)
		dst = jsonw.AppendString(dst, t.Name)
		if t.Description != "" {
			dst = append(dst, `,"description":`...)
			dst = jsonw.AppendString(dst, t.Description)
		}
		if len(t.Parameters) > 0 {
			dst = append(dst, `,"parameters":`...)
			dst = append(dst, t.Parameters...)
		}
		if t.Strict != nil {
			dst = append(dst, `,"strict":`...)
			dst = jsonw.AppendBool(dst, *t.Strict)
		}
		dst = append(dst, "}}"...)
	}
	return append(dst, ']'), nil
}

// maxCallIDLen is the longest tool-call id OpenAI accepts.
const maxCallIDLen = 40

// wireCallID returns id, or for ids OpenAI would reject as too long (other
// providers issue longer ones: Sluice's Gemini ids carry the thought
// signature) a stable 40-character stand-in. The same id always maps to
// the same stand-in, so an assistant's call and the tool result that
// answers it still match.
func wireCallID(id string) string {
	if len(id) <= maxCallIDLen {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "call_" + hex.EncodeToString(sum[:])[:maxCallIDLen-len("call_")]
}
