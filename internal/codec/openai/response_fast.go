package openai

import (
	"sync"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/llm"
)

// This file is DecodeChatResponse's fast path, on the terms of the
// request's (see request_fast.go): json.Unmarshal's result or nothing, and
// FuzzDecodeChatResponseFast holds it to that.

// responseScratch holds the wire structs of one decoding, reused through
// responsePool; the decoded response references none of it.
type responseScratch struct {
	w       responseWire
	choices []choiceWire
	msgs    []respMessageWire
	calls   []toolDeltaWire
	fns     []struct {
		Name      string    `json:"name"`
		Arguments arguments `json:"arguments"`
	}
	ints    []int
	usage   usageWire
	details [1]struct {
		CachedTokens     int `json:"cached_tokens"`
		CacheWriteTokens int `json:"cache_write_tokens"`
		AudioTokens      int `json:"audio_tokens"`
	}
	completion [1]struct {
		ReasoningTokens int `json:"reasoning_tokens"`
		AudioTokens     int `json:"audio_tokens"`
	}
}

var responsePool = sync.Pool{New: func() any { return new(responseScratch) }}

func (s *responseScratch) release() {
	if cap(s.choices) > maxPooledScratch || cap(s.calls) > maxPooledScratch {
		return
	}
	clear(s.choices)
	clear(s.msgs)
	clear(s.calls)
	clear(s.fns)
	*s = responseScratch{choices: s.choices[:0], msgs: s.msgs[:0], calls: s.calls[:0], fns: s.fns[:0],
		ints: s.ints[:0]}
	responsePool.Put(s)
}

// respDecoder is the state of one fast decoding of a response.
type respDecoder struct {
	reader
	s    *responseScratch
	seen uint64
}

// decodeChatResponseFast decodes body as DecodeChatResponse does; ok is
// false when the encoding/json path must decide (also for every body that
// is not a valid answer).
func decodeChatResponseFast(body []byte) (*llm.Response, bool) {
	if !utf8.Valid(body) {
		return nil, false
	}
	s := responsePool.Get().(*responseScratch)
	defer s.release()
	d := respDecoder{s: s}
	d.reset(body)
	if d.it.Object(d.member) != nil || !d.it.End() {
		return nil, false
	}
	resp, err := convertResponse(&s.w)
	return resp, err == nil
}

var responseKeys = []string{"id", "model", "created", "choices", "usage", "system_fingerprint",
	"service_tier", "x_groq", "error"}

func (d *respDecoder) member(k []byte) error {
	w := &d.s.w
	var bit uint
	switch string(k) {
	case "id":
		bit = 0
	case "model":
		bit = 1
	case "created":
		bit = 2
	case "choices":
		bit = 3
	case "usage":
		bit = 4
	case "system_fingerprint":
		bit = 5
	case "service_tier":
		bit = 6
	case "x_groq", "error":
		if d.it.Peek() == 'n' {
			return nil
		}
		return errSlow
	default:
		return otherKey(k, responseKeys)
	}
	if err := once(&d.seen, bit); err != nil {
		return err
	}
	switch bit {
	case 0:
		return d.str(&w.ID)
	case 1:
		return d.name(&w.Model)
	case 2:
		// As unixTime.UnmarshalJSON, for integers; fractions are left to
		// encoding/json.
		v := d.value()
		if v[0] == 'n' {
			return nil
		}
		n, ok := number(v)
		if !ok {
			return errSlow
		}
		w.Created = unixTime(n)
	case 3:
		return d.choices()
	case 4:
		return d.usage()
	case 5:
		return d.name(&w.SystemFingerprint)
	case 6:
		return d.name(&w.ServiceTier)
	}
	return nil
}

var choiceKeys = []string{"index", "message", "delta", "finish_reason", "logprobs"}

func (d *respDecoder) choices() error {
	w := &d.s.w
	if ok, err := array(&d.it); !ok {
		w.Choices = nil
		return err
	}
	err := d.it.Array(func(int) error {
		if d.it.Peek() != '{' {
			return errSlow
		}
		d.s.choices = append(d.s.choices, choiceWire{})
		c := &d.s.choices[len(d.s.choices)-1]
		var seen uint64
		return d.it.Object(func(k []byte) error {
			switch string(k) {
			case "index":
				if err := once(&seen, 0); err != nil {
					return err
				}
				return intVal(d.value(), &c.Index)
			case "message":
				if err := once(&seen, 1); err != nil {
					return err
				}
				return d.message(&c.Message)
			case "delta":
				if d.it.Peek() == 'n' {
					return nil
				}
				return errSlow
			case "finish_reason":
				if err := once(&seen, 2); err != nil {
					return err
				}
				return d.name(&c.FinishReason)
			case "logprobs":
				if err := once(&seen, 3); err != nil {
					return err
				}
				return d.raw(&c.Logprobs)
			}
			return otherKey(k, choiceKeys)
		})
	})
	w.Choices = d.s.choices[:len(d.s.choices):len(d.s.choices)]
	if w.Choices == nil {
		w.Choices = []choiceWire{}
	}
	return err
}

var respMessageKeys = []string{"role", "content", "refusal", "reasoning_content", "reasoning",
	"tool_calls", "annotations", "audio"}

func (d *respDecoder) message(dst **respMessageWire) error {
	ok, err := object(&d.it)
	if !ok {
		*dst = nil
		return err
	}
	d.s.msgs = append(d.s.msgs, respMessageWire{})
	m := &d.s.msgs[len(d.s.msgs)-1]
	*dst = m
	var seen uint64
	return d.it.Object(func(k []byte) error {
		var bit uint
		switch string(k) {
		case "role":
			bit = 0
		case "content":
			bit = 1
		case "refusal":
			bit = 2
		case "reasoning_content":
			bit = 3
		case "reasoning":
			bit = 4
		case "tool_calls":
			bit = 5
		case "annotations":
			bit = 6
		case "audio":
			bit = 7
		default:
			return otherKey(k, respMessageKeys)
		}
		if err := once(&seen, bit); err != nil {
			return err
		}
		switch bit {
		case 0:
			return d.name(&m.Role)
		case 1:
			return d.text(&m.Content)
		case 2:
			return d.text(&m.Refusal)
		case 3:
			return d.text(&m.ReasoningContent)
		case 4:
			return d.text(&m.Reasoning)
		case 5:
			return d.toolCalls(m)
		case 6:
			if v := d.it.Peek(); v == '[' {
				// An empty array (what OpenAI sends) is no annotation:
				// not worth a copy.
				switch a := d.value(); {
				case a[0] == 0:
					return errSlow
				case string(a) != "[]":
					m.Annotations = d.t.Raw(a)
				}
				return nil
			}
			return d.raw(&m.Annotations)
		case 7:
			return d.audio(&m.Audio)
		}
		return nil
	})
}

// text decodes a text field as text.UnmarshalJSON does, for strings.
func (d *respDecoder) text(dst *text) error {
	switch d.it.Peek() {
	case 'n':
		return nil
	case '"':
		s, ok := d.t.String(d.value())
		if !ok {
			return errSlow
		}
		*dst = text(s)
		return nil
	}
	return errSlow // arrays of parts, and what text rejects
}

var toolDeltaKeys = []string{"index", "id", "type", "function", "custom"}

func (d *respDecoder) toolCalls(m *respMessageWire) error {
	if ok, err := array(&d.it); !ok {
		m.ToolCalls = nil
		return err
	}
	start := len(d.s.calls)
	err := d.it.Array(func(int) error {
		if d.it.Peek() != '{' {
			return errSlow
		}
		d.s.calls = append(d.s.calls, toolDeltaWire{})
		c := &d.s.calls[len(d.s.calls)-1]
		var seen uint64
		return d.it.Object(func(k []byte) error {
			switch string(k) {
			case "index":
				if err := once(&seen, 0); err != nil {
					return err
				}
				d.s.ints = append(d.s.ints, 0)
				return intPtr(d.value(), &c.Index, &d.s.ints[len(d.s.ints)-1])
			case "id":
				if err := once(&seen, 1); err != nil {
					return err
				}
				return d.str(&c.ID)
			case "type":
				if err := once(&seen, 2); err != nil {
					return err
				}
				return d.name(&c.Type)
			case "function":
				if err := once(&seen, 3); err != nil {
					return err
				}
				return d.function(c)
			case "custom":
				if d.it.Peek() == 'n' {
					return nil
				}
				return errSlow
			}
			return otherKey(k, toolDeltaKeys)
		})
	})
	m.ToolCalls = d.s.calls[start:len(d.s.calls):len(d.s.calls)]
	if m.ToolCalls == nil {
		m.ToolCalls = []toolDeltaWire{}
	}
	return err
}

func (d *respDecoder) function(c *toolDeltaWire) error {
	ok, err := object(&d.it)
	if !ok {
		c.Function = nil
		return err
	}
	d.s.fns = append(d.s.fns, struct {
		Name      string    `json:"name"`
		Arguments arguments `json:"arguments"`
	}{})
	f := &d.s.fns[len(d.s.fns)-1]
	c.Function = f
	return d.callFunction(&f.Name, &f.Arguments)
}

var audioOutKeys = []string{"id", "data"}

func (d *respDecoder) audio(dst **audioOutWire) error {
	ok, err := object(&d.it)
	if !ok {
		*dst = nil
		return err
	}
	a := new(audioOutWire)
	*dst = a
	var seen uint64
	return d.it.Object(func(k []byte) error {
		switch string(k) {
		case "id":
			if err := once(&seen, 0); err != nil {
				return err
			}
			return d.str(&a.ID)
		case "data":
			if err := once(&seen, 1); err != nil {
				return err
			}
			return d.str(&a.Data)
		}
		return otherKey(k, audioOutKeys)
	})
}

var usageKeys = []string{"prompt_tokens", "completion_tokens", "prompt_cache_hit_tokens",
	"prompt_tokens_details", "completion_tokens_details"}
var promptDetailsKeys = []string{"cached_tokens", "cache_write_tokens", "audio_tokens"}
var completionDetailsKeys = []string{"reasoning_tokens", "audio_tokens"}

// counts decodes an object whose members keys[i] are integers into
// dst[i] (a fixed array, so the call does not allocate); a repeated
// member or an unknown one goes as once and otherKey say.
func (d *reader) counts(keys []string, dst [3]*int) error {
	var seen uint64
	return d.it.Object(func(k []byte) error {
		for i, key := range keys {
			if string(k) == key {
				if err := once(&seen, uint(i)); err != nil {
					return err
				}
				return intVal(d.value(), dst[i])
			}
		}
		return otherKey(k, keys)
	})
}

func (d *respDecoder) usage() error {
	w := &d.s.w
	ok, err := object(&d.it)
	if !ok {
		w.Usage = nil
		return err
	}
	u := &d.s.usage
	w.Usage = u
	var seen uint64
	return d.it.Object(func(k []byte) error {
		var bit uint
		switch string(k) {
		case "prompt_tokens":
			bit = 0
		case "completion_tokens":
			bit = 1
		case "prompt_cache_hit_tokens":
			bit = 2
		case "prompt_tokens_details":
			bit = 3
		case "completion_tokens_details":
			bit = 4
		default:
			return otherKey(k, usageKeys)
		}
		if err := once(&seen, bit); err != nil {
			return err
		}
		switch bit {
		case 0:
			return intVal(d.value(), &u.PromptTokens)
		case 1:
			return intVal(d.value(), &u.CompletionTokens)
		case 2:
			return intVal(d.value(), &u.PromptCacheHit)
		case 3:
			ok, err := object(&d.it)
			if !ok {
				u.PromptTokensDetails = nil
				return err
			}
			p := &d.s.details[0]
			u.PromptTokensDetails = p
			return d.counts(promptDetailsKeys, [3]*int{&p.CachedTokens, &p.CacheWriteTokens, &p.AudioTokens})
		case 4:
			ok, err := object(&d.it)
			if !ok {
				u.CompletionTokensDetails = nil
				return err
			}
			c := &d.s.completion[0]
			u.CompletionTokensDetails = c
			return d.counts(completionDetailsKeys, [3]*int{&c.ReasoningTokens, &c.AudioTokens})
		}
		return nil
	})
}
