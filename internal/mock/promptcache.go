package mock

import (
	"hash/maphash"
	"math/bits"
	"sync"
)

// Prompt caching as the providers report it; README.md, "Prompt caching",
// has the rules.
const (
	// maxRemembered bounds the prompts a Server remembers.
	maxRemembered = 4096
	// cacheMinTokens is the smallest prompt OpenAI and Gemini cache.
	cacheMinTokens = 1024
	// cacheBlock is the granularity of OpenAI's and Gemini's cache hits.
	cacheBlock = 128
)

// promptSeed seeds every prompt hash of the process. Hashes are only
// compared within one Server, so a random seed keeps the answers
// deterministic (barring a 64-bit collision).
var promptSeed = maphash.MakeSeed()

// hashTag says what a piece of a prompt is, so that moving text from one
// role or field to another changes the hash.
type hashTag uint64

const (
	tagModel hashTag = iota + 1
	tagSystem
	tagMessage // followed by the role and the message's content hash
	tagText
	tagToolResult
	tagTool
)

// promptHash is an order-sensitive hash of a prompt as the mock parsed it,
// built one tagged piece at a time. The zero value is the empty prompt.
type promptHash uint64

// add mixes in the piece s tagged tag.
func (h *promptHash) add(tag hashTag, s string) {
	*h = promptHash(mix(mix(uint64(*h), uint64(tag)), maphash.String(promptSeed, s)))
}

// addHash mixes in a piece that is itself hashed (a message's content).
func (h *promptHash) addHash(tag hashTag, v promptHash) {
	*h = promptHash(mix(mix(uint64(*h), uint64(tag)), uint64(v)))
}

// mix combines a running hash with the next 64-bit piece; it is a
// bijection in each argument, so different pieces give different hashes.
func mix(h, v uint64) uint64 {
	return (bits.RotateLeft64(h, 23) ^ v) * 0x9e3779b97f4a7c15
}

// promptSlot is one remembered prompt, linked in recency order.
type promptSlot struct {
	key        uint64
	prev, next int32 // neighbouring slots, more and less recent; -1 at the ends
}

// promptMemory is the set of prompts a Server has answered: the
// maxRemembered most recently answered distinct prompts, the least recently
// answered forgotten first. The zero value is empty and ready to use; it is
// safe for concurrent use and allocates only while it grows.
type promptMemory struct {
	mu         sync.Mutex
	index      map[uint64]int32 // key → slot
	slots      []promptSlot
	head, tail int32 // most and least recently answered; meaningful when slots is non-empty
}

// seen remembers the prompt h sent to api as just answered and reports
// whether it was remembered before. The same prompt sent to different APIs
// is remembered separately, as providers keep separate caches.
func (pm *promptMemory) seen(a api, h promptHash) bool {
	key := mix(uint64(h), uint64(a)+1)
	pm.mu.Lock()
	defer pm.mu.Unlock()
	if i, ok := pm.index[key]; ok {
		pm.unlink(i)
		pm.pushFront(i)
		return true
	}
	if pm.index == nil {
		pm.index = make(map[uint64]int32)
	}
	var i int32
	if len(pm.slots) < maxRemembered {
		i = int32(len(pm.slots))
		pm.slots = append(pm.slots, promptSlot{})
	} else {
		i = pm.tail
		pm.unlink(i)
		delete(pm.index, pm.slots[i].key)
	}
	pm.slots[i].key = key
	pm.pushFront(i)
	pm.index[key] = i
	return false
}

// unlink takes slot i out of the recency list; the list must hold more
// than slot i alone or be left empty.
func (pm *promptMemory) unlink(i int32) {
	s := &pm.slots[i]
	if s.prev >= 0 {
		pm.slots[s.prev].next = s.next
	} else {
		pm.head = s.next
	}
	if s.next >= 0 {
		pm.slots[s.next].prev = s.prev
	} else {
		pm.tail = s.prev
	}
}

// pushFront makes slot i the most recent.
func (pm *promptMemory) pushFront(i int32) {
	s := &pm.slots[i]
	s.prev, s.next = -1, -1
	if len(pm.slots) == 1 || pm.head < 0 {
		pm.head, pm.tail = i, i
		return
	}
	s.next = pm.head
	pm.slots[pm.head].prev = i
	pm.head = i
}

// clear forgets every prompt.
func (pm *promptMemory) clear() {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	pm.index, pm.slots = nil, nil
}

// cacheAutomatic applies OpenAI's and Gemini's automatic prompt caching to
// a, and remembers c's prompt: a prompt seen before with at least
// cacheMinTokens tokens has ⌊prompt/128⌋×128 of them read from the cache
// (still counted in a.promptTokens).
func (x *exchange) cacheAutomatic(c *convo, a *answer) {
	if x.s.prompts.seen(x.api, c.prompt) && a.promptTokens >= cacheMinTokens {
		a.cacheRead = a.promptTokens / cacheBlock * cacheBlock
	}
}

// cacheExplicit applies Anthropic's prompt caching to a when c marks a
// block or tool with cache_control: the whole prompt is written to the
// cache the first time and read from it on a repeat. Prompts without
// cache_control are neither cached nor remembered.
func (x *exchange) cacheExplicit(c *convo, a *answer) {
	if !c.cacheControl {
		return
	}
	if x.s.prompts.seen(x.api, c.prompt) {
		a.cacheRead = a.promptTokens
	} else {
		a.cacheWrite = a.promptTokens
	}
}
