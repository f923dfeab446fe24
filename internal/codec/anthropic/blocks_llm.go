package anthropic

import (
	"encoding/base64"
	"encoding/json"

	"github.com/sluicehq/sluice/internal/llm"
)

// This file converts Anthropic content blocks to canonical parts; requests
// and responses share it.

// blockPart converts one block that may appear in a user or assistant
// message (not tool_result, which becomes its own message). path names the
// block in errors.
func blockPart(b *wireBlock, path loc) (llm.Part, error) {
	switch b.Type {
	case blockText:
		return textPart(b), nil
	case blockImage:
		return imagePart(b, path)
	case blockDocument:
		return documentPart(b), nil
	case blockToolUse:
		if b.ID == "" || b.Name == "" {
			return llm.Part{}, llm.BadRequest(path.String(), "%s: tool_use blocks need an id and a name", path)
		}
		return llm.Part{Kind: llm.PartToolCall, CacheControl: nonNull(b.CacheControl),
			ToolCall: &llm.ToolCall{ID: b.ID, Type: "function", Name: b.Name, Arguments: toolInput(b.Input)}}, nil
	case blockThinking:
		return llm.Part{Kind: llm.PartReasoning, Text: b.Thinking, Signature: b.Signature}, nil
	case blockRedactedThinking:
		return llm.Part{Kind: llm.PartRedacted, Signature: b.Data}, nil
	case "":
		return llm.Part{}, llm.BadRequest(path.String()+".type", "%s.type: field required", path)
	}
	return llm.Part{Kind: llm.PartOpaque, Raw: b.raw, RawFormat: Format}, nil
}

// toolInput returns a tool_use input as canonical arguments text; an absent
// input is the empty object.
func toolInput(in json.RawMessage) string {
	if isNull(in) {
		return "{}"
	}
	return string(in)
}

func textPart(b *wireBlock) llm.Part {
	p := llm.Part{Kind: llm.PartText, Text: b.Text, Citations: nonNull(b.Citations), CacheControl: nonNull(b.CacheControl)}
	if p.Citations != nil {
		p.CitationsFormat = Format
	}
	return p
}

func imagePart(b *wireBlock, path loc) (llm.Part, error) {
	src := &b.Source
	m := &llm.Media{MIMEType: src.MediaType}
	switch src.Type {
	case "base64":
		if src.Data == "" {
			return llm.Part{}, llm.BadRequest(path.String()+".source.data", "%s.source.data: field required", path)
		}
		m.Data = src.Data
	case "url":
		if src.URL == "" {
			return llm.Part{}, llm.BadRequest(path.String()+".source.url", "%s.source.url: field required", path)
		}
		m.URL = src.URL
	case "file":
		if src.FileID == "" {
			return llm.Part{}, llm.BadRequest(path.String()+".source.file_id", "%s.source.file_id: field required", path)
		}
		m.FileID = src.FileID
	default:
		return llm.Part{}, llm.BadRequest(path.String()+".source.type", "%s.source.type: must be \"base64\", \"url\" or \"file\", got %q", path, src.Type)
	}
	return llm.Part{Kind: llm.PartImage, Media: m, CacheControl: nonNull(b.CacheControl)}, nil
}

// documentPart keeps a document whole in Raw (title, context and citation
// settings have no canonical field) and describes it in Media as well as
// it can: PDF data, a URL, a file ID, or plain text (base64-encoded, as
// Media.Data always is).
func documentPart(b *wireBlock) llm.Part {
	src := &b.Source
	var m *llm.Media
	switch src.Type {
	case "base64":
		m = &llm.Media{MIMEType: src.MediaType, Data: src.Data}
	case "url":
		m = &llm.Media{MIMEType: "application/pdf", URL: src.URL}
	case "file":
		m = &llm.Media{FileID: src.FileID}
	case "text":
		m = &llm.Media{MIMEType: "text/plain", Data: base64.StdEncoding.EncodeToString([]byte(src.Data))}
	}
	return llm.Part{Kind: llm.PartFile, Media: m, CacheControl: nonNull(b.CacheControl), Raw: b.raw, RawFormat: Format}
}

// toolResultPart converts the j-th block of user message i, a tool_result.
func toolResultPart(b *wireBlock, i, j int) (llm.Part, error) {
	path := partLoc(i, j)
	if b.ToolUseID == "" {
		return llm.Part{}, llm.BadRequest(path.String()+".tool_use_id", "%s.tool_use_id: field required", path)
	}
	r := &llm.ToolResult{CallID: b.ToolUseID, IsError: b.IsError}
	switch {
	case b.Content.IsString:
		r.Parts = []llm.Part{llm.TextPart(b.Content.Text)}
	case len(b.Content.Blocks) > 0:
		r.Parts = make([]llm.Part, len(b.Content.Blocks))
		for k := range b.Content.Blocks {
			inner := &b.Content.Blocks[k]
			innerPath := path.in(k)
			switch inner.Type {
			case blockToolUse, blockToolResult, blockThinking, blockRedactedThinking:
				return llm.Part{}, llm.BadRequest(innerPath.String()+".type", "%s.type: %s blocks cannot be tool results", innerPath, inner.Type)
			}
			p, err := blockPart(inner, innerPath)
			if err != nil {
				return llm.Part{}, err
			}
			r.Parts[k] = p
		}
	}
	return llm.Part{Kind: llm.PartToolResult, ToolResult: r, CacheControl: nonNull(b.CacheControl)}, nil
}
