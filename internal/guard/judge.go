package guard

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Finding kinds reported for judge verdicts (see Verdict.Findings).
const (
	KindJudge       = "judge"  // an unsafe verdict without categories
	KindJudgePrefix = "judge:" // followed by a category of an unsafe verdict
	KindJudgeError  = "judge_error"
)

// Judge defaults.
const (
	DefaultJudgeTimeout   = 5 * time.Second
	DefaultJudgeCacheSize = 10000
	DefaultJudgeCacheTTL  = 10 * time.Minute
	// DefaultJudgeRole is the role Check puts in the prompt.
	DefaultJudgeRole = "User"
)

// DefaultJudgePrompt is the prompt used when JudgeOptions.Prompt is
// empty: Llama Guard 3's prompt with the MLCommons hazard categories
// S1–S14. It asks for "safe", or "unsafe" and on the next line the
// comma-separated codes of the violated categories ("unsafe\nS1,S10").
// It works with Llama Guard models and, less reliably, with general chat
// models.
const DefaultJudgePrompt = `Task: Check if there is unsafe content in '{{role}}' messages in conversations according to our safety policy with the below categories.

<BEGIN UNSAFE CONTENT CATEGORIES>
S1: Violent Crimes.
S2: Non-Violent Crimes.
S3: Sex Crimes.
S4: Child Sexual Exploitation.
S5: Defamation.
S6: Specialized Advice.
S7: Privacy.
S8: Intellectual Property.
S9: Indiscriminate Weapons.
S10: Hate.
S11: Suicide & Self-Harm.
S12: Sexual Content.
S13: Elections.
S14: Code Interpreter Abuse.
<END UNSAFE CONTENT CATEGORIES>

<BEGIN CONVERSATION>

{{role}}: {{text}}

<END CONVERSATION>

Provide your safety assessment for ONLY THE LAST {{role}} message in the above conversation:
 - First line must read 'safe' or 'unsafe'.
 - If unsafe, a second line must include a comma-separated list of violated categories.`

// JudgeOptions configures a Judge.
type JudgeOptions struct {
	// Ask sends a prompt to the judge model (through the gateway's own
	// providers) and returns its text answer. It must honour ctx.
	// Required.
	Ask func(ctx context.Context, prompt string) (string, error)
	// Prompt is the template sent to the model: "{{text}}" is replaced
	// by the text to judge and "{{role}}" by the role (see CheckRole).
	// It must contain "{{text}}". Empty means DefaultJudgePrompt.
	Prompt string
	// Categories maps a category code of unsafe verdicts ("S1",
	// "violence"; compared case-insensitively) to an action: block, flag,
	// or redact, which a judge cannot localise and so treats as block.
	Categories map[string]string
	// DefaultAction is the action for an unsafe verdict whose categories
	// are all unmapped, or that names none. Empty means block.
	DefaultAction string
	// Timeout bounds each call of Ask. Zero means DefaultJudgeTimeout.
	Timeout time.Duration
	// FailOpen decides what a failed check (Ask's error, the timeout, an
	// unrecognised answer) does: true allows the text, false blocks it.
	FailOpen bool
	// CacheSize is how many verdicts are kept, by the sha256 of role and
	// text, in an LRU cache. Zero means DefaultJudgeCacheSize; negative
	// turns the cache off.
	CacheSize int
	// CacheTTL is how long a cached verdict is used. Zero means
	// DefaultJudgeCacheTTL; negative means verdicts never expire.
	CacheTTL time.Duration
}

// Verdict is a judge's answer about one text.
type Verdict struct {
	// Unsafe is true when the model judged the text unsafe.
	Unsafe bool
	// Categories are the categories the model named for an unsafe
	// verdict, as written (trimmed, without duplicates).
	Categories []string
	// Action is what to do: "" to allow, ActionBlock or ActionFlag. For an
	// unsafe verdict it is the strictest action of its categories.
	Action string
	// Err is why the check failed; Action then follows FailOpen ("" or
	// ActionBlock) and Unsafe is false.
	Err error
	// Cached is true when the verdict came from the cache.
	Cached bool
}

// Findings appends the findings of v about a text of n bytes, each
// spanning the whole text with Score 1: a "judge_error" finding for a
// failed check that blocks, and for an unsafe verdict one "judge:<code>"
// finding per category, or one "judge" finding when it names none.
func (v Verdict) Findings(dst []Finding, n int) []Finding {
	switch {
	case v.Err != nil:
		if v.Action != "" {
			dst = append(dst, Finding{Kind: KindJudgeError, End: n, Score: 1})
		}
	case v.Unsafe && len(v.Categories) == 0:
		dst = append(dst, Finding{Kind: KindJudge, End: n, Score: 1})
	case v.Unsafe:
		for _, c := range v.Categories {
			dst = append(dst, Finding{Kind: KindJudgePrefix + c, End: n, Score: 1})
		}
	}
	return dst
}

// Judge asks a model whether texts are safe. It is safe for concurrent
// use.
type Judge struct {
	ask           func(ctx context.Context, prompt string) (string, error)
	prompt        string
	categories    map[string]string // lower-cased code → ActionBlock or ActionFlag
	defaultAction string
	timeout       time.Duration
	failOpen      bool
	cache         *lru.Cache[[sha256.Size]byte, judgeEntry] // nil when off
	ttl           time.Duration                             // negative: no expiry
	now           func() time.Time
}

// judgeEntry is a cached verdict.
type judgeEntry struct {
	unsafe  bool
	cats    []string
	action  string
	expires time.Time // zero: never
}

// NewJudge checks o, applies its defaults and returns the judge.
func NewJudge(o JudgeOptions) (*Judge, error) {
	if o.Ask == nil {
		return nil, errors.New("guard: judge: ask is required")
	}
	j := &Judge{ask: o.Ask, prompt: o.Prompt, timeout: o.Timeout, failOpen: o.FailOpen, ttl: o.CacheTTL, now: time.Now}
	if j.prompt == "" {
		j.prompt = DefaultJudgePrompt
	}
	if !strings.Contains(j.prompt, "{{text}}") {
		return nil, errors.New("guard: judge: prompt must contain {{text}}")
	}
	var err error
	if j.defaultAction, err = judgeAction(o.DefaultAction); err != nil {
		return nil, fmt.Errorf("guard: judge: default_action: %w", err)
	}
	if j.categories, err = judgeCategories(o.Categories); err != nil {
		return nil, err
	}
	switch {
	case j.timeout < 0:
		return nil, errors.New("guard: judge: timeout must not be negative")
	case j.timeout == 0:
		j.timeout = DefaultJudgeTimeout
	}
	if j.ttl == 0 {
		j.ttl = DefaultJudgeCacheTTL
	}
	size := o.CacheSize
	if size == 0 {
		size = DefaultJudgeCacheSize
	}
	if size > 0 {
		if j.cache, err = lru.New[[sha256.Size]byte, judgeEntry](size); err != nil {
			return nil, fmt.Errorf("guard: judge: cache: %w", err)
		}
	}
	return j, nil
}

// judgeAction normalises an action; empty means block.
func judgeAction(a string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(a)) {
	case "", ActionBlock, ActionRedact:
		return ActionBlock, nil
	case ActionFlag:
		return ActionFlag, nil
	}
	return "", fmt.Errorf("action %q must be block, redact or flag", ruleShort(a, 20))
}

// judgeCategories normalises the category → action map.
func judgeCategories(in map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(in))
	for code, a := range in {
		key := strings.ToLower(strings.TrimSpace(code))
		if key == "" {
			return nil, errors.New("guard: judge: categories: empty category code")
		}
		act, err := judgeAction(a)
		if strings.TrimSpace(a) == "" {
			err = errors.New("action is required")
		}
		if err != nil {
			return nil, fmt.Errorf("guard: judge: categories[%q]: %w", ruleShort(code, 20), err)
		}
		if prev, dup := out[key]; dup && prev != act {
			return nil, fmt.Errorf("guard: judge: categories[%q]: given twice with different actions", ruleShort(code, 20))
		}
		out[key] = act
	}
	return out, nil
}

// Check judges text as a message of DefaultJudgeRole. The verdict comes
// from the cache when it holds a fresh one for the role and text;
// otherwise Ask is called with the rendered prompt, within Timeout, and
// its answer parsed. Surrounding whitespace and a Markdown code fence
// (```, ```json) are ignored; the accepted answers are:
//
//   - a JSON object with a boolean "safe" (or, without it, "unsafe") and
//     an optional "categories" array of strings: {"safe":false,
//     "categories":["S1"]}; other members are ignored;
//   - text whose first non-empty line starts with the word "safe" or
//     "unsafe" in any case, optionally after Markdown emphasis ("**"),
//     and not followed by a letter or digit ("unsafety" is no verdict).
//     For "unsafe" the categories are the rest of that line after a
//     separator ("UNSAFE: violence", "unsafe - S1, S2") or, when it has
//     none, the next non-empty line ("unsafe\nS1,S10"); they are split
//     on commas and semicolons and trimmed. Later lines are ignored, as
//     is anything after "safe".
//
// Anything else (prose such as "The text is safe.", more than 32
// categories, one longer than 64 bytes) is an error wrapping
// ErrJudgeVerdict, handled like Ask's errors: Verdict.Err is set and the
// action follows FailOpen. Only recognised answers are cached. Check
// never panics, whatever Ask does.
func (j *Judge) Check(ctx context.Context, text string) Verdict {
	return j.CheckRole(ctx, DefaultJudgeRole, text)
}

// CheckRole is Check for a message of role, which fills the prompt's
// "{{role}}" (Llama Guard knows "User" and "Agent"; empty means
// DefaultJudgeRole) and is part of the cache key.
func (j *Judge) CheckRole(ctx context.Context, role, text string) Verdict {
	if role == "" {
		role = DefaultJudgeRole
	}
	key := judgeKey(role, text)
	if v, ok := j.lookup(key); ok {
		return v
	}
	answer, err := j.call(ctx, strings.NewReplacer("{{text}}", text, "{{role}}", role).Replace(j.prompt))
	if err != nil {
		return j.failed(err)
	}
	unsafe, cats, err := parseJudgeVerdict(answer)
	if err != nil {
		return j.failed(err)
	}
	e := judgeEntry{unsafe: unsafe, cats: cats, action: j.actionFor(unsafe, cats)}
	j.store(key, e)
	return Verdict{Unsafe: e.unsafe, Categories: slices.Clone(e.cats), Action: e.action}
}

// judgeKey is the cache key of a role and text.
func judgeKey(role, text string) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(role))
	h.Write([]byte{0})
	h.Write([]byte(text))
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// lookup returns the cached verdict for key, if fresh.
func (j *Judge) lookup(key [sha256.Size]byte) (Verdict, bool) {
	if j.cache == nil {
		return Verdict{}, false
	}
	e, ok := j.cache.Get(key)
	if !ok {
		return Verdict{}, false
	}
	if !e.expires.IsZero() && !j.now().Before(e.expires) {
		j.cache.Remove(key)
		return Verdict{}, false
	}
	return Verdict{Unsafe: e.unsafe, Categories: slices.Clone(e.cats), Action: e.action, Cached: true}, true
}

// store caches e under key.
func (j *Judge) store(key [sha256.Size]byte, e judgeEntry) {
	if j.cache == nil {
		return
	}
	if j.ttl > 0 {
		e.expires = j.now().Add(j.ttl)
	}
	j.cache.Add(key, e)
}

// call runs Ask within the timeout. Should Ask ignore its context, call
// still returns at the deadline (Ask's goroutine finishes on its own), and
// a panic in Ask becomes an error.
func (j *Judge) call(ctx context.Context, prompt string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, j.timeout)
	defer cancel()
	type result struct {
		answer string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: fmt.Errorf("guard: judge: ask panicked: %v", p)}
			}
		}()
		answer, err := j.ask(ctx, prompt)
		done <- result{answer, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return "", fmt.Errorf("guard: judge: ask: %w", r.err)
		}
		return r.answer, nil
	case <-ctx.Done():
		return "", fmt.Errorf("guard: judge: ask: %w", context.Cause(ctx))
	}
}

// failed is the verdict of a check that failed with err.
func (j *Judge) failed(err error) Verdict {
	if j.failOpen {
		return Verdict{Err: err}
	}
	return Verdict{Err: err, Action: ActionBlock}
}

// actionFor is the action of a parsed verdict: none when safe, else the
// strictest action of its categories, unmapped ones and an empty list
// counting as DefaultAction.
func (j *Judge) actionFor(unsafe bool, cats []string) string {
	if !unsafe {
		return ""
	}
	if len(cats) == 0 {
		return j.defaultAction
	}
	for _, c := range cats {
		a, ok := j.categories[strings.ToLower(c)]
		if !ok {
			a = j.defaultAction
		}
		if a == ActionBlock {
			return ActionBlock
		}
	}
	return ActionFlag
}

// ErrJudgeVerdict is wrapped by the error of an answer that is none of the
// forms parseJudgeVerdict accepts.
var ErrJudgeVerdict = errors.New("guard: judge: unrecognised verdict")

// Limits on the categories of a verdict; an answer beyond them is not a
// verdict.
const (
	judgeMaxCategories  = 32
	judgeMaxCategoryLen = 64
)

// parseJudgeVerdict reads a judge model's answer in one of the forms
// Check documents. Errors wrap ErrJudgeVerdict and quote at most a
// short excerpt of the answer.
func parseJudgeVerdict(answer string) (unsafe bool, cats []string, err error) {
	s := judgeUnfence(strings.TrimSpace(answer))
	if strings.HasPrefix(s, "{") {
		unsafe, cats, err = judgeParseJSON(s)
	} else {
		unsafe, cats, err = judgeParseText(s)
	}
	if err != nil {
		return false, nil, fmt.Errorf("%w %q: %v", ErrJudgeVerdict, ruleShort(s, 32), err)
	}
	if !unsafe {
		return false, nil, nil
	}
	return true, cats, nil
}

// judgeUnfence removes a Markdown code fence around s.
func judgeUnfence(s string) string {
	if !strings.HasPrefix(s, "```") {
		return s
	}
	nl := strings.IndexByte(s, '\n')
	if nl < 0 {
		return strings.TrimSpace(strings.Trim(s, "`"))
	}
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s[nl+1:]), "```"))
}

// judgeParseJSON reads the JSON form of a verdict.
func judgeParseJSON(s string) (bool, []string, error) {
	var v struct {
		Safe       *bool    `json:"safe"`
		Unsafe     *bool    `json:"unsafe"`
		Categories []string `json:"categories"`
	}
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return false, nil, errors.New("bad JSON verdict")
	}
	var unsafe bool
	switch {
	case v.Safe != nil:
		unsafe = !*v.Safe
	case v.Unsafe != nil:
		unsafe = *v.Unsafe
	default:
		return false, nil, errors.New(`JSON verdict has no "safe" member`)
	}
	var cats []string
	for _, c := range v.Categories {
		var err error
		if cats, err = judgeAddCategory(cats, c); err != nil {
			return false, nil, err
		}
	}
	return unsafe, cats, nil
}

// judgeMarkup are the characters trimmed around verdict words and
// categories: whitespace, Markdown emphasis and quotes, separators.
const judgeMarkup = " \t\r*_`\"'#>:-–—=,.;()[]"

// judgeParseText reads the text form of a verdict.
func judgeParseText(s string) (bool, []string, error) {
	first, rest, _ := strings.Cut(s, "\n")
	first = strings.TrimLeft(first, judgeMarkup)
	n := 0
	for n < len(first) && ('a' <= first[n]|0x20 && first[n]|0x20 <= 'z') {
		n++
	}
	if next, _ := utf8.DecodeRuneInString(first[n:]); n < len(first) && ruleIsWord(next) {
		return false, nil, errors.New("no safe/unsafe word")
	}
	var unsafe bool
	switch word := first[:n]; {
	case strings.EqualFold(word, "safe"):
		return false, nil, nil
	case strings.EqualFold(word, "unsafe"):
		unsafe = true
	default:
		return false, nil, errors.New("no safe/unsafe word")
	}
	list := strings.Trim(first[n:], judgeMarkup)
	if list == "" {
		list = judgeNextLine(rest)
	}
	var cats []string
	for _, c := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ';' }) {
		var err error
		if cats, err = judgeAddCategory(cats, strings.Trim(c, judgeMarkup)); err != nil {
			return false, nil, err
		}
	}
	return unsafe, cats, nil
}

// judgeNextLine returns the first non-empty line of s, trimmed.
func judgeNextLine(s string) string {
	for line := range strings.Lines(s) {
		if line = strings.Trim(line, judgeMarkup+"\n"); line != "" {
			return line
		}
	}
	return ""
}

// judgeAddCategory appends c to cats unless it is blank or already there,
// enforcing the category limits.
func judgeAddCategory(cats []string, c string) ([]string, error) {
	c = strings.TrimSpace(c)
	switch {
	case c == "" || slices.Contains(cats, c):
		return cats, nil
	case len(c) > judgeMaxCategoryLen:
		return nil, errors.New("category too long")
	case len(cats) == judgeMaxCategories:
		return nil, errors.New("too many categories")
	}
	return append(cats, c), nil
}
