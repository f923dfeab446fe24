package mock

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// geminiRequest is the part of a Gemini GenerateContentRequest the mock
// reads. Like the adapters, the mock speaks the camelCase JSON form.
type geminiRequest struct {
	Contents          []geminiContent `json:"contents"`
	SystemInstruction *geminiContent  `json:"systemInstruction"`
	Tools             []struct {
		FunctionDeclarations []struct {
			Name string `json:"name"`
		} `json:"functionDeclarations"`
	} `json:"tools"`
	ToolConfig *struct {
		FunctionCallingConfig struct {
			Mode                 string   `json:"mode"`
			AllowedFunctionNames []string `json:"allowedFunctionNames"`
		} `json:"functionCallingConfig"`
	} `json:"toolConfig"`
	GenerationConfig *struct {
		MaxOutputTokens *int `json:"maxOutputTokens"`
	} `json:"generationConfig"`
	// GenerateContentRequest wraps the request in countTokens calls.
	GenerateContentRequest *geminiRequest `json:"generateContentRequest"`
}

type geminiContent struct {
	Role  string       `json:"role"`
	Parts []geminiPart `json:"parts"`
}

type geminiPart struct {
	Text             string `json:"text"`
	FunctionResponse *struct {
		Name     string          `json:"name"`
		Response json.RawMessage `json:"response"`
	} `json:"functionResponse"`
}

// geminiScan is what the mock reads from a content.
type geminiScan struct {
	text      string // the text parts joined
	result    string // the text of the last function response
	hasResult bool   // some part is a function response
	runes     int    // runes of the text parts and function-response texts
	hash      promptHash
}

// scan reads the content's parts.
func (gc *geminiContent) scan() (sc geminiScan) {
	for i := range gc.Parts {
		p := &gc.Parts[i]
		if p.FunctionResponse != nil {
			sc.result, sc.hasResult = geminiResultText(p.FunctionResponse.Response), true
			sc.runes += utf8.RuneCountInString(sc.result)
			sc.hash.add(tagToolResult, sc.result)
			continue
		}
		if sc.text == "" {
			sc.text = p.Text
		} else {
			sc.text += p.Text
		}
		sc.runes += utf8.RuneCountInString(p.Text)
		sc.hash.add(tagText, p.Text)
	}
	return sc
}

// geminiResultText is the text of a function response: a string response
// itself, the string value of a one-member object or of its "content",
// "result", "output" or "text" member, else the response's JSON text.
func geminiResultText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	var s string
	if raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj map[string]json.RawMessage
	if raw[0] == '{' && json.Unmarshal(raw, &obj) == nil {
		if len(obj) == 1 {
			for _, v := range obj {
				if json.Unmarshal(v, &s) == nil {
					return s
				}
			}
		}
		for _, k := range [...]string{"content", "result", "output", "text"} {
			if v, ok := obj[k]; ok && json.Unmarshal(v, &s) == nil {
				return s
			}
		}
	}
	return string(raw)
}

// geminiConvo parses a GenerateContentRequest for model, returning a client
// error as param and message.
func geminiConvo(body []byte, model string) (c convo, param, msg string) {
	var req geminiRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return c, "", "Invalid JSON payload received. " + err.Error()
	}
	if req.GenerateContentRequest != nil && len(req.Contents) == 0 {
		req = *req.GenerateContentRequest
	}
	c.model = model
	if len(req.Contents) == 0 {
		return c, "contents", "* GenerateContentRequest.contents: contents is not specified"
	}
	if gc := req.GenerationConfig; gc != nil && gc.MaxOutputTokens != nil {
		if *gc.MaxOutputTokens < 0 {
			return c, "generationConfig.maxOutputTokens", "maxOutputTokens must not be negative"
		}
		c.maxTokens = *gc.MaxOutputTokens
	}
	c.prompt.add(tagModel, c.model)
	if si := req.SystemInstruction; si != nil {
		if sc := si.scan(); sc.runes > 0 {
			c.addMessage(sc.runes)
			c.prompt.addHash(tagSystem, sc.hash)
		}
	}
	for i := range req.Contents {
		gc := &req.Contents[i]
		if len(gc.Parts) == 0 {
			return c, "contents[" + strconv.Itoa(i) + "].parts", "* GenerateContentRequest.contents[" +
				strconv.Itoa(i) + "].parts: contents.parts must not be empty"
		}
		sc := gc.scan()
		c.addMessage(sc.runes)
		c.prompt.add(tagMessage, gc.Role)
		c.prompt.addHash(tagText, sc.hash)
		switch {
		case gc.Role != "" && gc.Role != "user" && gc.Role != "model" && gc.Role != "function":
			return c, "contents[" + strconv.Itoa(i) + "].role", "Please use a valid role: user, model."
		case sc.hasResult:
			c.last, c.toolResult = lastToolResult, sc.result
		case gc.Role == "model":
			c.last = lastAssistant
		default:
			c.userText(sc.text)
		}
	}
	offered := false
	for _, t := range req.Tools {
		for _, fd := range t.FunctionDeclarations {
			c.prompt.add(tagTool, fd.Name)
			if !offered {
				c.tool, offered = fd.Name, true
			}
		}
	}
	if tc := req.ToolConfig; tc != nil && c.tool != "" {
		switch fc := tc.FunctionCallingConfig; {
		case fc.Mode == "NONE":
			c.tool = ""
		case len(fc.AllowedFunctionNames) > 0:
			c.tool = fc.AllowedFunctionNames[0]
		}
	}
	return c, "", ""
}
