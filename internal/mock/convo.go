package mock

import (
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/jsonw"
)

// lastKind is what the last message of a conversation is.
type lastKind uint8

const (
	lastNone lastKind = iota
	lastUser
	lastAssistant
	lastToolResult
)

// convo is what the mock needs to know of a chat request, whatever its API.
// Request parsers fill it in message order.
type convo struct {
	model        string
	stream       bool
	includeUsage bool // OpenAI stream_options.include_usage
	maxTokens    int  // output cap; zero when not set

	promptRunes int // runes of all prompt text
	messages    int // messages, counting a separate system instruction as one
	// prompt hashes the prompt as parsed: model, system, messages (role,
	// text and tool-result text) and tool names, in order.
	prompt promptHash
	// cacheControl is set when an Anthropic system block, content block or
	// tool carries cache_control.
	cacheControl bool

	last         lastKind
	lastUserText string // text of the latest user message that had no tool results
	toolResult   string // text of the last tool result of the last message
	// tool is the tool to call when the last message is a user message:
	// the first one offered or the one tool_choice names; empty when none
	// was offered or tool use is forbidden.
	tool string
}

// addMessage counts one message with text (and tool-result text) of the
// given rune count.
func (c *convo) addMessage(runes int) {
	c.messages++
	c.promptRunes += runes
}

// userText records a user message's text as the latest user text.
func (c *convo) userText(s string) {
	c.last = lastUser
	c.lastUserText = s
}

// finish is why an answer ended, mapped onto each API's vocabulary.
type finish uint8

const (
	finishStop finish = iota
	finishLength
	finishTool
	finishFilter // the content filter stopped it (a Fault's Finish)
)

// answer is what the mock says. Exactly one of text and toolName is set.
type answer struct {
	text     string
	toolName string
	toolArgs string // the tool call's arguments, a JSON object
	finish   finish

	promptTokens     int
	completionTokens int
	// cacheRead and cacheWrite are the prompt tokens read from and written
	// to the provider's prompt cache; both are part of promptTokens. Zero
	// until the handler applies its API's caching rule.
	cacheRead  int
	cacheWrite int
}

// answer decides the answer to c; see README.md for the rules and the
// token formula.
func (c *convo) answer() answer {
	a := answer{promptTokens: c.promptTokens()}
	switch {
	case c.last == lastUser && c.tool != "":
		args := make([]byte, 0, len(c.lastUserText)+16)
		args = append(args, `{"echo":`...)
		args = jsonw.AppendString(args, c.lastUserText)
		args = append(args, '}')
		a.toolName, a.toolArgs, a.finish = c.tool, string(args), finishTool
		a.completionTokens = ceilDiv4(utf8.RuneCountInString(a.toolName) + utf8.RuneCount(args))
		return a
	case c.last == lastToolResult:
		a.text = "tool said: " + c.toolResult
	default:
		a.text = c.lastUserText
		if a.text == "" {
			a.text = DefaultAnswer
		}
	}
	n := utf8.RuneCountInString(a.text)
	if c.maxTokens > 0 && c.maxTokens < (n+3)/4 {
		limit := 4 * c.maxTokens
		a.text = a.text[:runeOffset(a.text, limit)]
		a.finish = finishLength
		n = limit
	}
	a.completionTokens = ceilDiv4(n)
	return a
}

// promptTokens is ⌈R/4⌉ + 3×M; see README.md.
func (c *convo) promptTokens() int { return ceilDiv4(c.promptRunes) + 3*c.messages }

// ceilDiv4 is ⌈n/4⌉ for n ≥ 0.
func ceilDiv4(n int) int { return (n + 3) / 4 }

// runeOffset returns the byte offset of the n-th rune of s (len(s) if s has
// fewer runes).
func runeOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}

// pieces splits s into at most n pieces of about the same number of runes,
// cutting only on rune boundaries. An empty s gives one empty piece.
func pieces(s string, n int) []string {
	runes := utf8.RuneCountInString(s)
	n = min(n, runes)
	if n <= 1 {
		return []string{s}
	}
	out := make([]string, 0, n)
	base, extra := runes/n, runes%n
	start, i := 0, 0
	for k := 0; k < n-1; k++ {
		size := base
		if k < extra {
			size++
		}
		for ; size > 0; size-- {
			_, w := utf8.DecodeRuneInString(s[i:])
			i += w
		}
		out = append(out, s[start:i])
		start = i
	}
	return append(out, s[start:])
}
