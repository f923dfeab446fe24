package gemini

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/internal/llm"
)

// encodeMessages converts the conversation into Gemini contents and a
// system instruction:
//
//   - system and developer messages, wherever they are, become
//     systemInstruction parts in order (Gemini has no system turn);
//   - user messages become "user" turns and assistant messages "model"
//     turns; tool messages become functionResponse parts in a "user" turn;
//   - consecutive turns of the same role are merged into one, as Gemini
//     requires alternating turns;
//   - reasoning parts in assistant history are dropped: Gemini does not read
//     thought text back and validates signatures only on function calls,
//     which travel in the tool-call IDs (see toolid.go);
//   - empty text parts are dropped (Gemini rejects them), and so are turns
//     left with no parts.
func encodeMessages(req *llm.Request) ([]content, *content, error) {
	e := msgEncoder{modern: modernGemini(req.Model), contents: make([]content, 0, len(req.Messages))}
	for i := range req.Messages {
		m := &req.Messages[i]
		var err error
		switch m.Role {
		case llm.RoleSystem, llm.RoleDeveloper:
			err = e.system(m, i)
		case llm.RoleUser:
			err = e.user(m, i)
		case llm.RoleAssistant:
			err = e.assistant(m, i)
		case llm.RoleTool:
			err = e.tool(m, i)
		default:
			err = llm.BadRequest(fmt.Sprintf("messages[%d].role", i), "unknown role %q", m.Role)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if len(e.contents) == 0 {
		return nil, nil, llm.BadRequest("messages", "the conversation needs at least one user or assistant message")
	}
	return e.contents, e.sys, nil
}

type msgEncoder struct {
	contents []content
	sys      *content
	// names maps the IDs of the tool calls seen so far to function names,
	// for the tool results that follow them.
	names map[string]string
	// modern is set for Gemini 3+, which requires thought signatures.
	modern bool
}

// turn returns the parts slice of a turn with role, merging with the last
// turn when it has the same role.
func (e *msgEncoder) turn(role string) *content {
	if n := len(e.contents); n > 0 && e.contents[n-1].Role == role {
		return &e.contents[n-1]
	}
	e.contents = append(e.contents, content{Role: role})
	return &e.contents[len(e.contents)-1]
}

// drop removes the last turn if it ended up with no parts.
func (e *msgEncoder) drop() {
	if n := len(e.contents); n > 0 && len(e.contents[n-1].Parts) == 0 {
		e.contents = e.contents[:n-1]
	}
}

func (e *msgEncoder) system(m *llm.Message, i int) error {
	for j := range m.Parts {
		p := &m.Parts[j]
		if p.Kind != llm.PartText {
			return llm.BadRequest(fmt.Sprintf("messages[%d].content[%d]", i, j),
				"system messages may hold only text for this provider")
		}
		if p.Text == "" {
			continue
		}
		if e.sys == nil {
			e.sys = &content{}
		}
		e.sys.Parts = append(e.sys.Parts, part{Text: p.Text})
	}
	return nil
}

func (e *msgEncoder) user(m *llm.Message, i int) error {
	c := e.turn("user")
	c.Parts = slices.Grow(c.Parts, len(m.Parts))
	for j := range m.Parts {
		p := &m.Parts[j]
		switch p.Kind {
		case llm.PartText, llm.PartRefusal:
			if p.Text != "" {
				c.Parts = append(c.Parts, part{Text: p.Text})
			}
		case llm.PartImage, llm.PartAudio, llm.PartFile:
			gp, err := encodeMedia(p, i, j)
			if err != nil {
				return err
			}
			c.Parts = append(c.Parts, gp)
		case llm.PartReasoning, llm.PartRedacted:
		default:
			return llm.BadRequest(fmt.Sprintf("messages[%d].content[%d]", i, j),
				"a user message cannot hold a %s part", p.Kind)
		}
	}
	e.drop()
	return nil
}

func (e *msgEncoder) assistant(m *llm.Message, i int) error {
	c := e.turn("model")
	c.Parts = slices.Grow(c.Parts, len(m.Parts))
	signed := false
	firstCall := -1
	calls := 0 // numbers tool calls the way OpenAI clients do, for error paths
	for j := range m.Parts {
		p := &m.Parts[j]
		switch p.Kind {
		case llm.PartText, llm.PartRefusal:
			if p.Text != "" {
				c.Parts = append(c.Parts, part{Text: p.Text})
			}
		case llm.PartImage, llm.PartAudio, llm.PartFile:
			gp, err := encodeMedia(p, i, j)
			if err != nil {
				return err
			}
			c.Parts = append(c.Parts, gp)
		case llm.PartToolCall:
			tc := p.ToolCall
			if tc == nil {
				continue
			}
			if tc.Name == "" {
				return llm.BadRequest(fmt.Sprintf("messages[%d].tool_calls[%d].function.name", i, calls),
					"a tool call needs a function name")
			}
			args, ok := callArgs(tc.Arguments)
			if !ok {
				return llm.BadRequest(fmt.Sprintf("messages[%d].tool_calls[%d].function.arguments", i, calls),
					"tool call arguments must be a JSON object for this provider")
			}
			calls++
			sig := splitCallID(tc.ID)
			if sig != "" {
				signed = true
			}
			if firstCall < 0 {
				firstCall = len(c.Parts)
			}
			c.Parts = append(c.Parts, part{ThoughtSignature: sig,
				FunctionCall: &functionCall{Name: tc.Name, Args: args}})
			if tc.ID != "" {
				if e.names == nil {
					e.names = make(map[string]string)
				}
				e.names[tc.ID] = tc.Name
			}
		case llm.PartReasoning, llm.PartRedacted:
		default:
			return llm.BadRequest(fmt.Sprintf("messages[%d].content[%d]", i, j),
				"an assistant message cannot hold a %s part", p.Kind)
		}
	}
	if e.modern && firstCall >= 0 && !signed {
		// Gemini 3 rejects a function-calling step whose first call has no
		// signature; history from elsewhere gets the documented bypass.
		c.Parts[firstCall].ThoughtSignature = skipSignature
	}
	e.drop()
	return nil
}

func (e *msgEncoder) tool(m *llm.Message, i int) error {
	c := e.turn("user")
	for j := range m.Parts {
		p := &m.Parts[j]
		switch {
		case p.Kind == llm.PartToolResult && p.ToolResult != nil:
			tr := p.ToolResult
			name := tr.Name
			if name == "" {
				name = e.names[tr.CallID]
			}
			if name == "" {
				return llm.BadRequest(fmt.Sprintf("messages[%d].tool_call_id", i),
					"no earlier assistant tool call has the id %q, and Gemini needs the function name", tr.CallID)
			}
			resp, media, err := toolResponse(tr, i)
			if err != nil {
				return err
			}
			c.Parts = append(c.Parts, part{FunctionResponse: &functionResponse{Name: name, Response: resp}})
			c.Parts = append(c.Parts, media...)
		case p.Kind == llm.PartText:
			if p.Text != "" {
				c.Parts = append(c.Parts, part{Text: p.Text})
			}
		}
	}
	e.drop()
	return nil
}

// callArgs returns a tool call's arguments as a JSON object ("" is {}), or
// false if they are not one.
func callArgs(args string) (json.RawMessage, bool) {
	s := strings.TrimSpace(args)
	if s == "" {
		return json.RawMessage("{}"), true
	}
	b := []byte(s)
	return b, b[0] == '{' && json.Valid(b)
}

// toolResponse builds functionResponse.response from a tool result: a text
// that is a JSON object is used as it is; any other JSON value, or plain
// text, is wrapped as {"result": value} ({"error": value} for a failed
// call, the key Gemini documents for errors). Non-text parts (images)
// follow the functionResponse as parts of the same turn.
func toolResponse(tr *llm.ToolResult, i int) (json.RawMessage, []part, error) {
	var text string
	var media []part
	for k := range tr.Parts {
		p := &tr.Parts[k]
		switch p.Kind {
		case llm.PartText:
			text += p.Text // almost always exactly one part: no copy
		case llm.PartImage, llm.PartAudio, llm.PartFile:
			gp, err := encodeMedia(p, i, -1)
			if err != nil {
				return nil, nil, err
			}
			media = append(media, gp)
		default:
			return nil, nil, llm.BadRequest(fmt.Sprintf("messages[%d].content", i),
				"a tool result cannot hold a %s part for this provider", p.Kind)
		}
	}
	s := strings.TrimSpace(text)
	isJSON := looksLikeJSON(s) && json.Valid([]byte(s))
	if isJSON && !tr.IsError && s[0] == '{' {
		return json.RawMessage(s), media, nil
	}
	key := `{"result":`
	if tr.IsError {
		key = `{"error":`
	}
	var val []byte
	if isJSON {
		val = []byte(s)
	} else {
		val, _ = json.Marshal(text)
	}
	out := make([]byte, 0, len(key)+len(val)+1)
	out = append(out, key...)
	out = append(out, val...)
	return append(out, '}'), media, nil
}

// looksLikeJSON reports whether s starts the way a JSON value does, so
// plain-text results skip a validation bound to fail.
func looksLikeJSON(s string) bool {
	if s == "" {
		return false
	}
	switch c := s[0]; {
	case c == '{', c == '[', c == '"', c == '-', c >= '0' && c <= '9':
		return true
	case c == 't', c == 'f', c == 'n':
		return s == "true" || s == "false" || s == "null"
	}
	return false
}

// encodeMedia converts an image, audio or file part into inlineData (base64
// data, or a base64 data: URL) or fileData (an http(s) URL or an uploaded
// file's URI). i and j locate the part for errors (j < 0: the message's
// content as a whole).
func encodeMedia(p *llm.Part, i, j int) (part, error) {
	param := func() string {
		if j < 0 {
			return fmt.Sprintf("messages[%d].content", i)
		}
		return fmt.Sprintf("messages[%d].content[%d]", i, j)
	}
	m := p.Media
	if m == nil {
		return part{}, llm.BadRequest(param(), "a %s part has no content", p.Kind)
	}
	mime := m.MIMEType
	if mime == "" && p.Kind == llm.PartAudio && m.Format != "" {
		mime = "audio/" + m.Format
	}
	switch {
	case m.Data != "":
		if mime == "" {
			return part{}, llm.BadRequest(param(), "inline %s data needs a MIME type", p.Kind)
		}
		return part{InlineData: &blob{MIMEType: mime, Data: m.Data}}, nil
	case strings.HasPrefix(m.URL, "data:"):
		meta, data, ok := strings.Cut(m.URL[len("data:"):], ",")
		mt, isB64 := strings.CutSuffix(meta, ";base64")
		if !ok || !isB64 {
			return part{}, llm.BadRequest(param(), "a data: URL must be base64-encoded")
		}
		if mt == "" {
			mt = mime
		}
		if mt == "" {
			return part{}, llm.BadRequest(param(), "the data: URL has no MIME type")
		}
		return part{InlineData: &blob{MIMEType: mt, Data: data}}, nil
	case m.URL != "":
		return part{FileData: &fileData{MIMEType: mime, FileURI: m.URL}}, nil
	case m.FileID != "":
		return part{FileData: &fileData{MIMEType: mime, FileURI: m.FileID}}, nil
	}
	return part{}, llm.BadRequest(param(), "a %s part has no content", p.Kind)
}
