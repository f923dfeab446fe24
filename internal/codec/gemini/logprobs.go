package gemini

import (
	"encoding/json"
	"math"
)

// openaiLogprobs is OpenAI's choice.logprobs object, the canonical form.
type openaiLogprobs struct {
	Content []openaiTokenLogprob `json:"content"`
}

type openaiTokenLogprob struct {
	Token       string             `json:"token"`
	Logprob     float64            `json:"logprob"`
	Bytes       []byte             `json:"bytes"` // always null: Gemini gives no bytes
	TopLogprobs []openaiTopLogprob `json:"top_logprobs"`
}

type openaiTopLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	Bytes   []byte  `json:"bytes"`
}

// encodeLogprobs converts a candidate's logprobsResult into OpenAI's form:
// chosenCandidates[i] is the i-th token, topCandidates[i] its alternatives.
// It returns nil when there is nothing to report.
func encodeLogprobs(r *logprobsResult) json.RawMessage {
	if len(r.ChosenCandidates) == 0 {
		return nil
	}
	out := openaiLogprobs{Content: make([]openaiTokenLogprob, len(r.ChosenCandidates))}
	for i, c := range r.ChosenCandidates {
		t := openaiTokenLogprob{Token: c.Token, Logprob: finite(c.LogProbability), TopLogprobs: []openaiTopLogprob{}}
		if i < len(r.TopCandidates) {
			for _, alt := range r.TopCandidates[i].Candidates {
				t.TopLogprobs = append(t.TopLogprobs, openaiTopLogprob{Token: alt.Token, Logprob: finite(alt.LogProbability)})
			}
		}
		out.Content[i] = t
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil
	}
	return b
}

// finite keeps a logprob encodable: JSON has no -Inf, and OpenAI reports
// impossible tokens as -9999.
func finite(f float64) float64 {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return -9999
	}
	return f
}
