package cache

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/llm"
)

// Index finds cached answers whose prompts are similar. Scopes keep tenants
// and models apart: a search never sees another scope's vectors. Vectors
// are normalised on Add and Search; similarity is cosine (1 = same
// direction). Safe for concurrent use.
type Index interface {
	// Search returns the key of the most similar live (not expired) vector
	// in scope, if its similarity is at least min.
	Search(ctx context.Context, scope string, vec []float32, min float32) (k Key, sim float32, ok bool, err error)
	// Add stores vec for k in scope until ttl passes.
	Add(ctx context.Context, scope string, vec []float32, k Key, ttl time.Duration) error
	// Remove drops k from scope (its answer is gone from the cache).
	Remove(ctx context.Context, scope string, k Key) error
	// Purge drops everything.
	Purge(ctx context.Context) error
	Close() error
}

var (
	_ Index = (*MemoryIndex)(nil)
	_ Index = (*RedisIndex)(nil)
)

// The modes of SemanticText.
const (
	SemanticLastUser     = "last_user"
	SemanticConversation = "conversation"
)

// ErrBadVector is wrapped by Search and Add for a vector that cannot be
// compared: empty, longer than maxVectorDims, with a NaN or infinite
// component, all zeros, or absurdly short or long (see vectorNorm).
var ErrBadVector = errors.New("cache: bad vector")

// ErrIndexClosed is returned by an index's methods after Close.
var ErrIndexClosed = errors.New("cache: index closed")

// maxVectorDims bounds the dimensions of a vector; real embedding models
// stay far below it.
const maxVectorDims = 1 << 16

// Scope joins a namespace and a model into a scope name (unambiguously):
// the namespace's length, a colon, the namespace, a slash and the model,
// so no two different pairs give the same name whatever bytes they hold.
func Scope(namespace, model string) string {
	return strconv.Itoa(len(namespace)) + ":" + namespace + "/" + model
}

// SemanticText is the text of a chat request that is embedded: mode
// "last_user" (the last user message's text parts), or "conversation"
// (every message as "role: text" lines; tool calls and tool results
// included as text). Empty when there is no text, when mode is unknown,
// and in "last_user" mode when the conversation does not end with a user
// message: after a tool result or an assistant prefill the answer depends
// on more than the question, and a cached answer to the question alone
// (often the tool call itself) would be wrong. Text parts of one message
// are joined by newlines.
func SemanticText(req *llm.Request, mode string) string {
	if req == nil || len(req.Messages) == 0 {
		return ""
	}
	switch mode {
	case SemanticLastUser:
		last := &req.Messages[len(req.Messages)-1]
		if last.Role != llm.RoleUser {
			return ""
		}
		var b strings.Builder
		for i := range last.Parts {
			if p := &last.Parts[i]; p.Kind == llm.PartText && p.Text != "" {
				if b.Len() > 0 {
					b.WriteByte('\n')
				}
				b.WriteString(p.Text)
			}
		}
		return b.String()
	case SemanticConversation:
		var b strings.Builder
		for i := range req.Messages {
			writeConversationLine(&b, &req.Messages[i])
		}
		return b.String()
	}
	return ""
}

// writeConversationLine appends m as "role: content" and a newline when
// it has any text, tool call or tool result; content pieces are joined by
// newlines. A tool call is "[call name arguments]", a tool result
// "[result name] text".
func writeConversationLine(b *strings.Builder, m *llm.Message) {
	started := false
	piece := func() {
		if !started {
			b.WriteString(string(m.Role))
			b.WriteString(": ")
			started = true
			return
		}
		b.WriteByte('\n')
	}
	for i := range m.Parts {
		p := &m.Parts[i]
		switch {
		case (p.Kind == llm.PartText || p.Kind == llm.PartRefusal) && p.Text != "":
			piece()
			b.WriteString(p.Text)
		case p.Kind == llm.PartToolCall && p.ToolCall != nil:
			piece()
			fmt.Fprintf(b, "[call %s %s]", p.ToolCall.Name, p.ToolCall.Arguments)
		case p.Kind == llm.PartToolResult && p.ToolResult != nil:
			piece()
			fmt.Fprintf(b, "[result %s]", p.ToolResult.Name)
			for j := range p.ToolResult.Parts {
				if r := &p.ToolResult.Parts[j]; r.Kind == llm.PartText && r.Text != "" {
					b.WriteByte(' ')
					b.WriteString(r.Text)
				}
			}
		}
	}
	if started {
		b.WriteByte('\n')
	}
}

// Bounds on a vector's norm that keep float32 dot products of it finite
// and precise.
const (
	minVectorNorm = 1e-15
	maxVectorNorm = 1e15
)

// vectorNorm returns the L2 norm of vec, or an error wrapping ErrBadVector
// when vec cannot be normalised: empty, too long, not finite, or with a
// norm outside [minVectorNorm, maxVectorNorm].
func vectorNorm(vec []float32) (float64, error) {
	if len(vec) == 0 || len(vec) > maxVectorDims {
		return 0, fmt.Errorf("%w: %d dimensions", ErrBadVector, len(vec))
	}
	var sum float64
	for _, v := range vec {
		sum += float64(v) * float64(v)
	}
	norm := math.Sqrt(sum)
	if !(norm >= minVectorNorm && norm <= maxVectorNorm) { // also NaN
		return 0, fmt.Errorf("%w: norm %v", ErrBadVector, norm)
	}
	return norm, nil
}

// normalized returns a unit-length copy of vec, whose norm is norm.
func normalized(vec []float32, norm float64) []float32 {
	out := make([]float32, len(vec))
	for i, v := range vec {
		out[i] = float32(float64(v) / norm)
	}
	return out
}

// dotF32 is the dot product of a and b (b at least as long as a): a plain
// loop with four accumulators, 1.3-1.9 times as fast as one (Go does not
// vectorise it): 66 ns for 256 dimensions, ~400 ns for 1536 on a 2-core
// AMD EPYC.
func dotF32(a, b []float32) float32 {
	n := len(a)
	b = b[:n]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= n; i += 4 {
		aa, bb := a[i:i+4:i+4], b[i:i+4:i+4]
		s0 += aa[0] * bb[0]
		s1 += aa[1] * bb[1]
		s2 += aa[2] * bb[2]
		s3 += aa[3] * bb[3]
	}
	for ; i < n; i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}
