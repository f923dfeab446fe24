package anthropic

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
)

// This file writes canonical parts as Anthropic content blocks; request and
// response encoding share it, with the differences that blockMode names.

// blockMode says what the blocks are written for.
type blockMode uint8

const (
	// forRequest writes an upstream request: parts Anthropic cannot take
	// are errors naming the canonical message, and reasoning without a
	// signature is left out (Anthropic rejects unsigned thinking).
	forRequest blockMode = iota
	// forResponse writes a client response: parts Anthropic cannot show
	// (audio, images, other formats' opaque parts) are left out.
	forResponse
)

// partWriter writes parts as blocks into dst.
type partWriter struct {
	dst      []byte
	mode     blockMode
	provider string
}

// appendPart writes p as one block; it writes nothing for parts that are
// left out (empty text, see blockMode). path names p in errors.
func (w *partWriter) appendPart(p *llm.Part, path loc) error {
	var err error
	switch p.Kind {
	case llm.PartText, llm.PartRefusal:
		if p.Text == "" && (p.Citations == nil || p.CitationsFormat != Format) {
			return nil
		}
		w.dst = append(w.dst, `{"type":"text","text":`...)
		w.dst = jsonw.AppendString(w.dst, p.Text)
		if p.Citations != nil && p.CitationsFormat == Format {
			if w.dst, err = appendRawField(w.dst, "citations", p.Citations); err != nil {
				return w.rawError(path.String()+".citations", err)
			}
		}
	case llm.PartToolCall:
		if p.ToolCall == nil {
			return nil
		}
		if err := w.appendToolUse(p.ToolCall, path); err != nil {
			return err
		}
	case llm.PartReasoning:
		if p.Signature == "" && w.mode == forRequest {
			return nil
		}
		w.dst = append(w.dst, `{"type":"thinking","thinking":`...)
		w.dst = jsonw.AppendString(w.dst, p.Text)
		w.dst = appendStringField(w.dst, "signature", p.Signature)
		return w.close()
	case llm.PartRedacted:
		w.dst = append(w.dst, `{"type":"redacted_thinking","data":`...)
		w.dst = jsonw.AppendString(w.dst, p.Signature)
		return w.close()
	case llm.PartImage:
		if w.mode == forResponse {
			return nil
		}
		if err := w.appendImage(p.Media, path); err != nil {
			return err
		}
	case llm.PartFile:
		if w.mode == forResponse {
			return nil
		}
		if p.Raw != nil && p.RawFormat == Format {
			return w.appendRawBlock(p.Raw, path)
		}
		if err := w.appendDocument(p.Media, path); err != nil {
			return err
		}
	case llm.PartOpaque:
		if p.RawFormat == Format && p.Raw != nil {
			return w.appendRawBlock(p.Raw, path)
		}
		if w.mode == forResponse {
			return nil
		}
		return unsupportedContent(w.provider, path.String(), "content of another API format")
	case llm.PartAudio:
		if w.mode == forResponse {
			return nil
		}
		return unsupportedContent(w.provider, path.String(), "audio input")
	case llm.PartToolResult:
		if w.mode == forResponse {
			return nil
		}
		return llm.BadRequest(path.String(), "%s: a tool result cannot appear here", path)
	default:
		if w.mode == forResponse {
			return nil
		}
		return unsupportedContent(w.provider, path.String(), fmt.Sprintf("content of kind %q", p.Kind))
	}
	if p.CacheControl != nil {
		if w.dst, err = appendRawField(w.dst, "cache_control", p.CacheControl); err != nil {
			return w.rawError(path.String()+".cache_control", err)
		}
	}
	return w.close()
}

func (w *partWriter) close() error {
	w.dst = append(w.dst, '}')
	return nil
}

func (w *partWriter) appendRawBlock(raw []byte, path fmt.Stringer) error {
	var err error
	if w.dst, err = jsonw.AppendCompact(w.dst, raw); err != nil {
		return w.rawError(path.String(), err)
	}
	return nil
}

// rawError reports raw JSON that is not valid: a gateway bug, since decoders
// only keep valid JSON.
func (w *partWriter) rawError(path string, err error) error {
	return &llm.Error{Status: 500, Type: llm.TypeAPI, Message: "internal gateway error",
		Fault: llm.FaultGateway, Err: fmt.Errorf("anthropic: %s: %w", path, err)}
}

func unsupportedContent(provider, path, what string) error {
	e := llm.Unsupported(provider, path)
	e.Code = "unsupported_content"
	e.Message = fmt.Sprintf("%s: %s is not supported by provider %q", path, what, provider)
	return e
}

func (w *partWriter) appendToolUse(tc *llm.ToolCall, path loc) error {
	id := tc.ID
	if id == "" {
		id = newID("toolu_")
	}
	w.dst = append(w.dst, `{"type":"tool_use","id":`...)
	w.dst = jsonw.AppendString(w.dst, id)
	w.dst = appendStringField(w.dst, "name", tc.Name)
	w.dst = jsonw.AppendKey(w.dst, "input")
	args := strings.TrimSpace(tc.Arguments)
	if args == "" {
		w.dst = append(w.dst, "{}"...)
		return nil
	}
	var err error
	if args[0] == '{' {
		w.dst, err = jsonw.AppendCompact(w.dst, []byte(args))
	}
	if args[0] != '{' || err != nil {
		msg := fmt.Sprintf("%s: the arguments of tool call %q are not a JSON object, which Anthropic requires", path, tc.ID)
		if w.mode == forResponse {
			return &llm.Error{Status: 502, Type: llm.TypeAPI, Code: "invalid_tool_arguments", Message: msg,
				Provider: w.provider, Fault: llm.FaultProvider}
		}
		return llm.BadRequest(path.String()+".arguments", "%s", msg)
	}
	return nil
}

func (w *partWriter) appendImage(m *llm.Media, path loc) error {
	if m == nil {
		return llm.BadRequest(path.String(), "%s: image without a source", path)
	}
	w.dst = append(w.dst, `{"type":"image","source":`...)
	return w.appendSource(m, path, "")
}

func (w *partWriter) appendDocument(m *llm.Media, path loc) error {
	if m == nil {
		return llm.BadRequest(path.String(), "%s: file without a source", path)
	}
	w.dst = append(w.dst, `{"type":"document","source":`...)
	if m.MIMEType == "text/plain" && m.Data != "" {
		text, err := base64.StdEncoding.DecodeString(m.Data)
		if err != nil {
			return llm.BadRequest(path.String(), "%s: file data is not valid base64", path)
		}
		w.dst = append(w.dst, `{"type":"text","media_type":"text/plain","data":`...)
		w.dst = jsonw.AppendString(w.dst, string(text))
		w.dst = append(w.dst, '}')
	} else if err := w.appendSource(m, path, "application/pdf"); err != nil {
		return err
	}
	if m.Filename != "" {
		w.dst = appendStringField(w.dst, "title", m.Filename)
	}
	return nil
}

// appendSource writes an image or document source object. defaultMIME is
// used for inline data without a type; images get theirs sniffed.
func (w *partWriter) appendSource(m *llm.Media, path loc, defaultMIME string) error {
	mime, data := m.MIMEType, m.Data
	switch {
	case data == "" && strings.HasPrefix(m.URL, "data:"):
		var ok bool
		if mime, data, ok = parseDataURL(m.URL); !ok {
			return llm.BadRequest(path.String(), "%s: only base64 data: URLs are supported", path)
		}
	case data == "" && m.URL != "":
		w.dst = append(w.dst, `{"type":"url","url":`...)
		w.dst = jsonw.AppendString(w.dst, m.URL)
		w.dst = append(w.dst, '}')
		return nil
	case data == "" && m.FileID != "":
		w.dst = append(w.dst, `{"type":"file","file_id":`...)
		w.dst = jsonw.AppendString(w.dst, m.FileID)
		w.dst = append(w.dst, '}')
		return nil
	case data == "":
		return llm.BadRequest(path.String(), "%s: media without data, URL or file ID", path)
	}
	if mime == "" {
		mime = defaultMIME
		if mime == "" {
			mime = sniffImage(data)
		}
		if mime == "" {
			return llm.BadRequest(path.String(), "%s: the media type of the image is unknown", path)
		}
	}
	w.dst = append(w.dst, `{"type":"base64","media_type":`...)
	w.dst = jsonw.AppendString(w.dst, mime)
	w.dst = appendStringField(w.dst, "data", data)
	w.dst = append(w.dst, '}')
	return nil
}

// parseDataURL splits "data:image/png;base64,AAAA" into its media type and
// base64 payload; ok is false for data: URLs that are not base64.
func parseDataURL(u string) (mime, data string, ok bool) {
	meta, data, found := strings.Cut(strings.TrimPrefix(u, "data:"), ",")
	if !found {
		return "", "", false
	}
	mime, ok = strings.CutSuffix(meta, ";base64")
	if i := strings.IndexByte(mime, ';'); i >= 0 {
		mime = mime[:i]
	}
	return mime, data, ok
}

// sniffImage recognises the image types Anthropic accepts from the first
// bytes of their base64 encoding.
func sniffImage(b64 string) string {
	for _, s := range [...]struct{ prefix, mime string }{
		{"iVBORw0KGgo", "image/png"}, {"/9j/", "image/jpeg"}, {"R0lGOD", "image/gif"}, {"UklGR", "image/webp"},
	} {
		if strings.HasPrefix(b64, s.prefix) {
			return s.mime
		}
	}
	return ""
}

// appendToolResult writes a tool_result block for r.
func (w *partWriter) appendToolResult(p *llm.Part, path loc) error {
	r := p.ToolResult
	w.dst = append(w.dst, `{"type":"tool_result","tool_use_id":`...)
	w.dst = jsonw.AppendString(w.dst, r.CallID)
	switch {
	case textOnly(r.Parts):
		w.dst = appendStringField(w.dst, "content", r.Parts[0].Text)
	case len(r.Parts) > 0:
		w.dst = jsonw.AppendKey(w.dst, "content")
		w.dst = append(w.dst, '[')
		start := len(w.dst)
		for k := range r.Parts {
			mark := len(w.dst)
			if mark > start {
				w.dst = append(w.dst, ',')
			}
			n := len(w.dst)
			if err := w.appendPart(&r.Parts[k], path.in(k)); err != nil {
				return err
			}
			if len(w.dst) == n {
				w.dst = w.dst[:mark]
			}
		}
		w.dst = append(w.dst, ']')
	}
	if r.IsError {
		w.dst = append(w.dst, `,"is_error":true`...)
	}
	if p.CacheControl != nil {
		var err error
		if w.dst, err = appendRawField(w.dst, "cache_control", p.CacheControl); err != nil {
			return w.rawError(path.String()+".cache_control", err)
		}
	}
	w.dst = append(w.dst, '}')
	return nil
}

// textOnly reports whether parts can be written as one plain string.
func textOnly(parts []llm.Part) bool {
	return len(parts) == 1 && parts[0].Kind == llm.PartText && parts[0].CacheControl == nil && parts[0].Citations == nil
}
