package gemini

import "encoding/json"

// The Gemini wire types below cover what the codec reads or writes; fields
// Gemini sends that the canonical model has no place for (safetyRatings,
// citationMetadata, groundingMetadata) are not decoded at all.

// generateRequest is the body of models.generateContent and
// models.streamGenerateContent.
type generateRequest struct {
	Contents          []content `json:"contents"`
	SystemInstruction *content  `json:"systemInstruction,omitempty"`
	// Tools holds *functionTool and, for Gemini-format clients, built-in
	// tools as json.RawMessage.
	Tools            []any             `json:"tools,omitempty"`
	ToolConfig       *toolConfig       `json:"toolConfig,omitempty"`
	GenerationConfig *generationConfig `json:"generationConfig,omitempty"`
}

// content is one conversation turn. Role is "user" or "model", and empty in
// systemInstruction.
type content struct {
	Role  string `json:"role,omitempty"`
	Parts []part `json:"parts"`
}

// part is one piece of a turn; exactly one of its data fields is set, and
// Thought and ThoughtSignature qualify it.
type part struct {
	Text             string            `json:"text,omitempty"`
	Thought          bool              `json:"thought,omitempty"`
	ThoughtSignature string            `json:"thoughtSignature,omitempty"`
	InlineData       *blob             `json:"inlineData,omitempty"`
	FileData         *fileData         `json:"fileData,omitempty"`
	FunctionCall     *functionCall     `json:"functionCall,omitempty"`
	FunctionResponse *functionResponse `json:"functionResponse,omitempty"`
}

type blob struct {
	MIMEType string `json:"mimeType"`
	Data     string `json:"data"`
}

type fileData struct {
	MIMEType string `json:"mimeType,omitempty"`
	FileURI  string `json:"fileUri"`
}

// functionCall is a call the model made. ID is optional and only some
// models set it.
type functionCall struct {
	ID   string          `json:"id,omitempty"`
	Name string          `json:"name"`
	Args json.RawMessage `json:"args,omitempty"`
}

// functionResponse carries a tool result back; Response must be a JSON
// object.
type functionResponse struct {
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`
}

// functionTool is a Tool holding function declarations.
type functionTool struct {
	FunctionDeclarations []functionDeclaration `json:"functionDeclarations"`
}

// functionDeclaration uses parametersJsonSchema (full JSON Schema) rather
// than parameters (an OpenAPI subset that rejects keywords such as
// additionalProperties, which OpenAI strict-mode schemas always carry).
type functionDeclaration struct {
	Name                 string          `json:"name"`
	Description          string          `json:"description,omitempty"`
	ParametersJSONSchema json.RawMessage `json:"parametersJsonSchema,omitempty"`
}

type toolConfig struct {
	FunctionCallingConfig functionCallingConfig `json:"functionCallingConfig"`
}

type functionCallingConfig struct {
	Mode                 string   `json:"mode"`
	AllowedFunctionNames []string `json:"allowedFunctionNames,omitempty"`
}

type generationConfig struct {
	StopSequences      []string        `json:"stopSequences,omitempty"`
	ResponseMIMEType   string          `json:"responseMimeType,omitempty"`
	ResponseJSONSchema json.RawMessage `json:"responseJsonSchema,omitempty"`
	CandidateCount     *int            `json:"candidateCount,omitempty"`
	MaxOutputTokens    *int            `json:"maxOutputTokens,omitempty"`
	Temperature        *float64        `json:"temperature,omitempty"`
	TopP               *float64        `json:"topP,omitempty"`
	TopK               *int            `json:"topK,omitempty"`
	Seed               *int64          `json:"seed,omitempty"`
	PresencePenalty    *float64        `json:"presencePenalty,omitempty"`
	FrequencyPenalty   *float64        `json:"frequencyPenalty,omitempty"`
	ResponseLogprobs   bool            `json:"responseLogprobs,omitempty"`
	Logprobs           *int            `json:"logprobs,omitempty"`
	ThinkingConfig     *thinkingConfig `json:"thinkingConfig,omitempty"`
}

// thinkingConfig sets either ThinkingBudget (Gemini 2.x) or ThinkingLevel
// (Gemini 3 and later); the API rejects both at once.
type thinkingConfig struct {
	ThinkingBudget  *int   `json:"thinkingBudget,omitempty"`
	ThinkingLevel   string `json:"thinkingLevel,omitempty"`
	IncludeThoughts bool   `json:"includeThoughts,omitempty"`
}

// generateResponse is a whole generateContent answer, and also one event of
// a stream (each event is a fragment of the same shape).
type generateResponse struct {
	Candidates     []candidate     `json:"candidates"`
	PromptFeedback *promptFeedback `json:"promptFeedback"`
	UsageMetadata  *usageMetadata  `json:"usageMetadata"`
	ModelVersion   string          `json:"modelVersion"`
	ResponseID     string          `json:"responseId"`
	// Error is set on a stream event that reports a failure mid-stream.
	Error *apiErrorBody `json:"error"`
}

type candidate struct {
	Content        respContent     `json:"content"`
	FinishReason   string          `json:"finishReason"`
	Index          int             `json:"index"`
	LogprobsResult *logprobsResult `json:"logprobsResult"`
}

// respContent is a candidate's content: the role is always "model" and is
// not decoded.
type respContent struct {
	Parts []part `json:"parts"`
}

type promptFeedback struct {
	BlockReason string `json:"blockReason"`
}

type usageMetadata struct {
	PromptTokenCount        int                  `json:"promptTokenCount"`
	CandidatesTokenCount    int                  `json:"candidatesTokenCount"`
	TotalTokenCount         int                  `json:"totalTokenCount"`
	CachedContentTokenCount int                  `json:"cachedContentTokenCount"`
	ThoughtsTokenCount      int                  `json:"thoughtsTokenCount"`
	ToolUsePromptTokenCount int                  `json:"toolUsePromptTokenCount"`
	PromptTokensDetails     []modalityTokenCount `json:"promptTokensDetails"`
	CandidatesTokensDetails []modalityTokenCount `json:"candidatesTokensDetails"`
}

type modalityTokenCount struct {
	Modality   string `json:"modality"`
	TokenCount int    `json:"tokenCount"`
}

type logprobsResult struct {
	TopCandidates    []topCandidates `json:"topCandidates"`
	ChosenCandidates []logprobsEntry `json:"chosenCandidates"`
}

type topCandidates struct {
	Candidates []logprobsEntry `json:"candidates"`
}

type logprobsEntry struct {
	Token          string  `json:"token"`
	LogProbability float64 `json:"logProbability"`
}

// apiErrorBody is Google's error shape: {"error": {code, message, status,
// details}}.
type apiErrorBody struct {
	Code    int           `json:"code"`
	Message string        `json:"message"`
	Status  string        `json:"status"`
	Details []errorDetail `json:"details"`
}

// errorDetail holds the fields of google.rpc.ErrorInfo and RetryInfo that
// the codec reads.
type errorDetail struct {
	Type       string `json:"@type"`
	Reason     string `json:"reason"`
	RetryDelay string `json:"retryDelay"`
}

type embedRequest struct {
	Requests []embedContentRequest `json:"requests"`
}

type embedContentRequest struct {
	Model                string  `json:"model"`
	Content              content `json:"content"`
	OutputDimensionality *int    `json:"outputDimensionality,omitempty"`
}

type embedResponse struct {
	Embeddings []struct {
		Values []float32 `json:"values"`
	} `json:"embeddings"`
}
