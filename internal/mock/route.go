package mock

import (
	"net/http"
	"strings"
)

// api is the wire API a request was addressed to; it decides the shape of
// the answer and of errors.
type api uint8

const (
	apiOpenAI api = iota
	apiAnthropic
	apiGemini
)

type routeKind uint8

const (
	routeUnknown routeKind = iota
	routeOpenAIChat
	routeOpenAIEmbeddings
	routeModels
	routeModel
	routeAnthropicMessages
	routeGeminiGenerate
	routeGeminiStream
	routeGeminiCount
	routeGeminiEmbed
	routeGeminiBatchEmbed
)

// route is what a request's method and path select.
type route struct {
	kind   routeKind
	api    api
	method string // the method the route accepts
	// model is the Gemini model or Azure deployment named in the path, or
	// the model id of GET /v1/models/{id}; empty otherwise.
	model string
}

// classify maps a request to its route. Unknown paths get routeUnknown with
// the API their prefix suggests, so the 404 comes in a shape the caller
// understands.
func classify(r *http.Request) route {
	p := r.URL.Path
	switch p {
	case "/v1/chat/completions":
		return route{kind: routeOpenAIChat, method: http.MethodPost}
	case "/v1/embeddings":
		return route{kind: routeOpenAIEmbeddings, method: http.MethodPost}
	case "/v1/messages":
		return route{kind: routeAnthropicMessages, api: apiAnthropic, method: http.MethodPost}
	case "/v1/models":
		return route{kind: routeModels, api: modelsAPI(r), method: http.MethodGet}
	case "/v1beta/models":
		return route{kind: routeModels, api: apiGemini, method: http.MethodGet}
	}
	if rest, ok := strings.CutPrefix(p, "/openai/deployments/"); ok {
		if d, op, ok := strings.Cut(rest, "/"); ok && d != "" {
			switch op {
			case "chat/completions":
				return route{kind: routeOpenAIChat, method: http.MethodPost, model: d}
			case "embeddings":
				return route{kind: routeOpenAIEmbeddings, method: http.MethodPost, model: d}
			}
		}
		return route{}
	}
	rest, ok := strings.CutPrefix(p, "/v1beta/models/")
	if !ok {
		if rest, ok = strings.CutPrefix(p, "/v1/models/"); !ok {
			if strings.HasPrefix(p, "/v1beta/") {
				return route{api: apiGemini}
			}
			return route{api: modelsAPI(r)}
		}
		if !strings.Contains(rest, ":") {
			return route{kind: routeModel, api: modelsAPI(r), method: http.MethodGet, model: rest}
		}
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return route{kind: routeModel, api: apiGemini, method: http.MethodGet, model: rest}
	}
	if i == 0 {
		return route{api: apiGemini}
	}
	rt := route{api: apiGemini, method: http.MethodPost, model: rest[:i]}
	switch rest[i+1:] {
	case "generateContent":
		rt.kind = routeGeminiGenerate
	case "streamGenerateContent":
		rt.kind = routeGeminiStream
	case "countTokens":
		rt.kind = routeGeminiCount
	case "embedContent":
		rt.kind = routeGeminiEmbed
	case "batchEmbedContents":
		rt.kind = routeGeminiBatchEmbed
	default:
		return route{api: apiGemini}
	}
	return rt
}

// modelsAPI tells Anthropic's callers of the shared /v1 paths from
// OpenAI's: Anthropic clients always send anthropic-version.
func modelsAPI(r *http.Request) api {
	if r.Header.Get("Anthropic-Version") != "" {
		return apiAnthropic
	}
	return apiOpenAI
}
