package route

import (
	"errors"
	"fmt"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// Request is what a condition can read, under the names in the expr tags.
// The gateway fills it per request; fields a table's conditions never read
// (see Table.Needs) may be left zero.
type Request struct {
	// Model is the model the client asked for, before any route.
	Model string `expr:"model"`
	// Metadata is the client's x-sluice-metadata, each value as plain
	// text: a string without its quotes, a number or bool as written
	// ("42", "true"). A missing key reads as "".
	Metadata map[string]string `expr:"metadata"`
	// Key, Team and Tenant are the caller's ids; "" when not set.
	Key    string `expr:"key"`
	Team   string `expr:"team"`
	Tenant string `expr:"tenant"`
	// PromptTokens is an estimate of the prompt's size in tokens.
	PromptTokens int `expr:"prompt_tokens"`
	// HasTools says the request offers tools; HasImages that a message
	// carries an image; Stream that the client asked for a stream.
	HasTools  bool `expr:"has_tools"`
	HasImages bool `expr:"has_images"`
	Stream    bool `expr:"stream"`
}

// Needs says which of the costlier Request fields a table's conditions
// read, so the caller computes only those.
type Needs struct {
	Metadata     bool
	PromptTokens bool
	HasImages    bool
}

// Condition is a compiled, type-checked boolean expression over Request.
// It is immutable and safe for concurrent use.
type Condition struct {
	source  string
	program *vm.Program
	needs   Needs
}

// maxNodes bounds a condition's size: a route is a short rule, and a huge
// one would cost every request.
const maxNodes = 1000

// Compile parses and type-checks a condition. The error, a *CompileError,
// says where in the expression the problem is.
func Compile(source string) (*Condition, error) {
	if source == "" {
		return nil, &CompileError{Msg: "empty condition; write true to match every request"}
	}
	p, err := expr.Compile(source, expr.Env(Request{}), expr.AsBool(), expr.MaxNodes(maxNodes))
	if err != nil {
		return nil, compileError(err)
	}
	c := &Condition{source: source, program: p}
	node := p.Node()
	ast.Walk(&node, needsVisitor{&c.needs})
	return c, nil
}

// String returns the condition's source.
func (c *Condition) String() string { return c.source }

// Needs says which costlier fields the condition reads.
func (c *Condition) Needs() Needs { return c.needs }

// Eval runs the condition against req using machine m (reusable, one
// goroutine at a time; nil makes a fresh one). A runtime failure, such as
// int("abc"), is an error: the caller treats the rule as not matching.
func (c *Condition) Eval(m *vm.VM, req *Request) (bool, error) {
	if m == nil {
		m = &vm.VM{}
	}
	out, err := m.Run(c.program, req)
	if err != nil {
		return false, err
	}
	b, _ := out.(bool) // AsBool guarantees a bool
	return b, nil
}

// needsVisitor marks the fields an expression reads. $env reads anything.
type needsVisitor struct{ n *Needs }

func (v needsVisitor) Visit(node *ast.Node) {
	id, ok := (*node).(*ast.IdentifierNode)
	if !ok {
		return
	}
	switch id.Value {
	case "metadata":
		v.n.Metadata = true
	case "prompt_tokens":
		v.n.PromptTokens = true
	case "has_images":
		v.n.HasImages = true
	case "$env":
		*v.n = Needs{Metadata: true, PromptTokens: true, HasImages: true}
	}
}

// CompileError is a condition that does not compile. Line and Column are
// 1-based positions inside the condition (0 when unknown).
type CompileError struct {
	Line, Column int
	Msg          string
}

func (e *CompileError) Error() string {
	switch {
	case e.Line > 1:
		return fmt.Sprintf("line %d, column %d of the condition: %s", e.Line, e.Column, e.Msg)
	case e.Line == 1:
		return fmt.Sprintf("column %d of the condition: %s", e.Column, e.Msg)
	}
	return e.Msg
}

func compileError(err error) *CompileError {
	var fe *file.Error
	if errors.As(err, &fe) {
		// expr's columns are 0-based.
		return &CompileError{Line: fe.Line, Column: fe.Column + 1, Msg: fe.Message}
	}
	return &CompileError{Msg: err.Error()}
}

// Table is an ordered list of conditions; Match finds the first that
// holds. It is immutable and safe for concurrent use.
type Table struct {
	conds []*Condition
	needs Needs
	vms   sync.Pool // *vm.VM, reused across calls
}

// NewTable compiles the conditions in order. The error names the index of
// each condition that fails, joined with errors.Join.
func NewTable(conditions []string) (*Table, error) {
	t := &Table{conds: make([]*Condition, len(conditions))}
	t.vms.New = func() any { return &vm.VM{} }
	var errs []error
	for i, src := range conditions {
		c, err := Compile(src)
		if err != nil {
			errs = append(errs, fmt.Errorf("route %d: %w", i, err))
			continue
		}
		t.conds[i] = c
		t.needs.Metadata = t.needs.Metadata || c.needs.Metadata
		t.needs.PromptTokens = t.needs.PromptTokens || c.needs.PromptTokens
		t.needs.HasImages = t.needs.HasImages || c.needs.HasImages
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return t, nil
}

// Len is the number of conditions.
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return len(t.conds)
}

// Needs says which costlier fields any condition reads.
func (t *Table) Needs() Needs { return t.needs }

// Match returns the index of the first condition that holds for req, or
// -1. A condition that fails at run time does not match; the first such
// failure is returned (wrapped with its index) next to the result, for the
// log. A nil table matches nothing.
func (t *Table) Match(req *Request) (int, error) {
	if t.Len() == 0 {
		return -1, nil
	}
	m := t.vms.Get().(*vm.VM)
	defer t.vms.Put(m)
	var first error
	for i, c := range t.conds {
		ok, err := c.Eval(m, req)
		if err != nil {
			if first == nil {
				first = fmt.Errorf("route %d: %w", i, err)
			}
			continue
		}
		if ok {
			return i, first
		}
	}
	return -1, first
}
