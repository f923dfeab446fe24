package anthropic

import (
	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
)

// EncodeMessagesResponse writes the first choice of resp as an Anthropic
// Messages API response. The ID is kept whatever its shape (one is made up
// if empty); the finish reason maps back to a stop_reason (stop with a
// reported sequence → stop_sequence, stop → end_turn, length → max_tokens,
// tool_calls → tool_use, content_filter → refusal, pause → pause_turn);
// refusals become text; content Anthropic cannot show (audio, images) is
// left out; usage is converted (input_tokens excludes cache tokens).
//
// It fails with a 502 *llm.Error when a tool call's arguments are not a JSON
// object, which the Anthropic format cannot carry.
func EncodeMessagesResponse(resp *llm.Response) ([]byte, error) {
	var c *llm.Choice
	if len(resp.Choices) > 0 {
		c = &resp.Choices[0]
	}
	size := 256 + len(resp.ID) + len(resp.Model)
	if c != nil {
		for i := range c.Message.Parts {
			size += partSize(&c.Message.Parts[i])
		}
	}
	w := partWriter{dst: make([]byte, 0, size), mode: forResponse}
	id := resp.ID
	if id == "" {
		id = newID("msg_")
	}
	w.dst = append(w.dst, `{"id":`...)
	w.dst = jsonw.AppendString(w.dst, id)
	w.dst = append(w.dst, `,"type":"message","role":"assistant","model":`...)
	w.dst = jsonw.AppendString(w.dst, resp.Model)
	w.dst = append(w.dst, `,"content":[`...)
	var finish llm.FinishReason
	var stopSeq string
	if c != nil {
		finish, stopSeq = c.FinishReason, c.StopSequence
		for i := range c.Message.Parts {
			mark := len(w.dst)
			if w.dst[mark-1] != '[' {
				w.dst = append(w.dst, ',')
			}
			n := len(w.dst)
			if err := w.appendPart(&c.Message.Parts[i], loc{resp: true, block: i, inner: -1}); err != nil {
				return nil, err
			}
			if len(w.dst) == n {
				w.dst = w.dst[:mark]
			}
		}
	}
	reason := stopReason(finish, stopSeq)
	w.dst = append(w.dst, `],"stop_reason":`...)
	w.dst = jsonw.AppendString(w.dst, reason)
	w.dst = append(w.dst, `,"stop_sequence":`...)
	if reason == stopSequence {
		w.dst = jsonw.AppendString(w.dst, stopSeq)
	} else {
		w.dst = append(w.dst, "null"...)
	}
	w.dst = append(w.dst, `,"usage":{`...)
	w.dst = appendUsage(w.dst, &resp.Usage)
	return append(w.dst, '}', '}'), nil
}
