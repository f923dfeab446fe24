package anthropic

import (
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
)

// This file holds the StreamEncoder's handling of tool calls, whose
// fragments may arrive interleaved for several calls.

// maxStreamTools bounds the tool-call index a stream may use.
const maxStreamTools = 1024

// Tool-call states in the encoder.
const (
	toolPending uint8 = iota // seen, arguments buffered, block not opened yet
	toolOpen
	toolClosed
)

// encodedTool is the encoder's state for one canonical tool call.
type encodedTool struct {
	seen    bool
	state   uint8
	id      string
	name    string
	pending []byte // arguments received while the block could not be open
	json    jsonDepth
}

func (e *StreamEncoder) appendToolDelta(dst []byte, td *llm.ToolCallDelta) ([]byte, error) {
	if td.Index < 0 || td.Index >= maxStreamTools {
		return dst, fmt.Errorf("anthropic: stream encoder: tool call index %d out of range", td.Index)
	}
	for len(e.tools) <= td.Index {
		e.tools = append(e.tools, encodedTool{})
	}
	t := &e.tools[td.Index]
	if !t.seen {
		t.seen = true
	}
	if t.id == "" {
		t.id = td.ID
	}
	if t.name == "" {
		t.name = td.Name
	}
	switch t.state {
	case toolOpen:
		if td.Arguments != "" {
			t.json.feed(td.Arguments)
			dst = e.appendBlockDelta(dst, "input_json_delta", "partial_json", td.Arguments)
		}
		return dst, nil
	case toolClosed:
		if strings.TrimSpace(td.Arguments) == "" {
			return dst, nil
		}
		return dst, fmt.Errorf("anthropic: stream encoder: arguments for tool call %d after its block was closed", td.Index)
	}
	t.pending = append(t.pending, td.Arguments...)
	// Open pending calls, lowest index first, while no call with
	// incomplete arguments holds the open block; an interleaved call
	// waits.
	for e.open != kindTool || e.tools[e.openTool].json.complete() {
		next := e.firstPending()
		if next < 0 {
			break
		}
		dst = e.openToolBlock(dst, next)
		if next == td.Index {
			break
		}
	}
	return dst, nil
}

// firstPending returns the lowest index of a call whose block has not been
// opened, or -1.
func (e *StreamEncoder) firstPending() int {
	for i := range e.tools {
		if e.tools[i].seen && e.tools[i].state == toolPending {
			return i
		}
	}
	return -1
}

// openToolBlock closes the open block and opens call i's, writing the
// arguments buffered for it.
func (e *StreamEncoder) openToolBlock(dst []byte, i int) []byte {
	dst = e.closeOpen(dst)
	t := &e.tools[i]
	if t.id == "" {
		t.id = newID("toolu_")
	}
	dst = e.appendBlockStartHead(dst)
	dst = append(dst, `{"type":"tool_use","id":`...)
	dst = jsonw.AppendString(dst, t.id)
	dst = appendStringField(dst, "name", t.name)
	dst = append(dst, ",\"input\":{}}}\n\n"...)
	e.open, e.openTool, t.state = kindTool, i, toolOpen
	e.calledAny = true
	if len(t.pending) > 0 {
		t.json.feed(string(t.pending))
		dst = e.appendBlockDelta(dst, "input_json_delta", "partial_json", string(t.pending))
		t.pending = nil
	}
	return dst
}

// flushTools closes the open block and writes every call still pending as
// a whole block, in index order.
func (e *StreamEncoder) flushTools(dst []byte) []byte {
	dst = e.closeOpen(dst)
	for i := e.firstPending(); i >= 0; i = e.firstPending() {
		dst = e.openToolBlock(dst, i)
		dst = e.closeOpen(dst)
	}
	return dst
}

// jsonDepth follows the nesting of JSON text fed in fragments, to tell when
// a tool call's arguments form a complete value.
type jsonDepth struct {
	depth   int
	started bool
	inStr   bool
	esc     bool
}

func (j *jsonDepth) feed(s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if j.inStr {
			switch {
			case j.esc:
				j.esc = false
			case c == '\\':
				j.esc = true
			case c == '"':
				j.inStr = false
			}
			continue
		}
		switch c {
		case '"':
			j.inStr = true
		case '{', '[':
			j.depth++
			j.started = true
		case '}', ']':
			j.depth--
		}
	}
}

// complete reports whether the fragments so far form a whole object or array.
func (j *jsonDepth) complete() bool { return j.started && j.depth <= 0 && !j.inStr }
