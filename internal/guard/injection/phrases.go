package injection

import (
	"strings"
	"unicode"
)

// personaAt reports whether a persona request starts at token i: "act
// as", "pretend", "imagine you", "role-play", "you are now", "now you
// are", "from now on", "stay in character", "du bist jetzt", "jetzt bist
// du", "tu so als", "stell dir vor", "fungieren", "spiele die Rolle".
func (d *detector) personaAt(i int) bool {
	switch {
	case d.is(i, "act"), d.is(i, "acting"):
		return d.is(i+1, "as")
	case d.is(i, "pretend"), d.is(i, "roleplay"), d.is(i, "fungieren"):
		return true
	case d.is(i, "imagine"):
		return d.is(i+1, "you") || d.is(i+2, "you")
	case d.is(i, "role"):
		return d.is(i+1, "play") || d.is(i+1, "playing")
	case d.is(i, "you"):
		return (d.is(i+1, "are") || d.is(i+1, "re")) && d.is(i+2, "now")
	case d.is(i, "now"):
		return d.is(i+1, "you") && d.is(i+2, "are")
	case d.is(i, "from"):
		return d.is(i+1, "now") && d.is(i+2, "on")
	case d.is(i, "stay"), d.is(i, "break"), d.is(i, "bleiben"), d.is(i, "bleibt"):
		return d.inRole(i)
	case d.is(i, "bist"):
		return d.is(i-1, "du") && (d.is(i+1, "jetzt") || d.is(i+1, "nun")) ||
			(d.is(i-1, "jetzt") || d.is(i-1, "nun")) && d.is(i+1, "du")
	case d.is(i, "tu"):
		return d.is(i+1, "so") && d.is(i+2, "als")
	case d.is(i, "stell"):
		return d.is(i+1, "dir") && d.is(i+2, "vor")
	case d.is(i, "spiele"):
		return d.is(i+2, "rolle")
	}
	return false
}

// inRole reports "character" or "role(s)" within four words after i:
// "stay in character", "always stay in their roles", "bleiben immer in
// ihren Rollen".
func (d *detector) inRole(i int) bool {
	for j := i + 1; j <= i+4; j++ {
		if d.is(j, "character") || d.is(j, "role") || d.is(j, "roles") || d.is(j, "rolle") || d.is(j, "rollen") {
			return true
		}
	}
	return false
}

// jailbreak notes jailbreak vocabulary at token i: "jailbreak",
// "developer mode", "DAN", "do anything now", and names of AI models.
func (d *detector) jailbreak(i int) {
	switch {
	case d.is(i, "jailbreak"), d.is(i, "jailbroken"), d.is(i, "jailbreaking"):
		d.fire(hJailbreak)
	case d.is(i, "mode"):
		if d.is(i-1, "developer") || d.is(i-1, "dan") || d.is(i-1, "god") || d.is(i-1, "evil") {
			d.fireSet(1<<hJailbreak | 1<<fDevMode)
		}
	case d.is(i, "dan"):
		if d.s.toks[i].upper {
			d.fireSet(1<<hJailbreak | 1<<fDAN)
		}
	case d.is(i, "do"):
		if d.is(i+1, "anything") && d.is(i+2, "now") {
			d.fire(hJailbreakStrict)
		}
	case d.is(i, "chatgpt"), d.is(i, "gpt"), d.is(i, "llm"), d.is(i, "ai"):
		d.fire(fAINamed)
	}
}

// instructionsChanged reports "your instructions are …" and "change your
// instructions" around the instruction noun at i, and "Instruction:".
func (d *detector) instructionsChanged(i int) bool {
	if d.s.toks[i].cls&cTarget != 0 && d.colonAfter(i) {
		return true
	}
	if !d.is(i-1, "your") {
		return false
	}
	return d.is(i+1, "are") || d.is(i+1, "is") || d.is(i-2, "change") || d.is(i-2, "update")
}

// colonAfter reports whether a colon follows token i directly.
func (d *detector) colonAfter(i int) bool {
	end := int(d.s.toks[i].ohi)
	return end < len(d.text) && d.text[end] == ':'
}

// sayWhat reports output forcing at the "say" verb at i: "say that",
// "say yes", "print the following", "tell me that", "repeat after me".
func (d *detector) sayWhat(i int) bool {
	for j := i + 1; j <= i+2; j++ {
		if d.is(j, "following") || d.is(j, "folgende") || d.is(j, "folgendes") || d.is(j, "siguiente") || d.is(j, "suit") {
			return true
		}
	}
	switch {
	case d.is(i, "say"), d.is(i, "sage"), d.is(i, "sagen"), d.is(i, "state"):
		return d.is(i+1, "that") || d.is(i+1, "yes") || d.is(i+1, "dass")
	case d.is(i, "repeat"):
		return d.is(i+1, "after") && d.is(i+2, "me")
	case d.is(i, "tell"):
		return d.is(i+1, "me") && d.is(i+2, "that")
	}
	return false
}

// roleLabel reports a chat role name at i that opens a line and is
// followed by a colon: "System: …", "Human: …".
func (d *detector) roleLabel(i int) bool {
	if !d.colonAfter(i) {
		return false
	}
	j := int(d.s.toks[i].olo) - 1
	for j >= 0 && (d.text[j] == ' ' || d.text[j] == '\t' || d.text[j] == '\r') {
		j--
	}
	return j < 0 || d.text[j] == '\n'
}

// interrupted reports an interruption word at i followed directly by a
// dash, colon, comma or exclamation mark: "stop -", "Attention:",
// "Stopp, …".
func (d *detector) interrupted(i int) bool {
	j := int(d.s.toks[i].ohi)
	for j < len(d.text) && d.text[j] == ' ' {
		j++
	}
	return j < len(d.text) && strings.IndexByte("-:,!", d.text[j]) >= 0
}

// praise tracks praise early in the text followed, in a later sentence,
// by "now": the pivot that deepset's injections use.
func (d *detector) praise(i int, c uint32) {
	if c&cPraise != 0 && i < 12 && d.praiseAt < 0 {
		d.praiseAt = i
		return
	}
	if c&cPivot == 0 || d.praiseAt < 0 || i-d.praiseAt > 12 {
		return
	}
	for j := d.praiseAt + 1; j <= i; j++ {
		if d.s.toks[j].brk {
			d.fire(hPraisePivot)
			return
		}
	}
}

// shape tracks runs of all-caps words and of single spaced-out letters.
// The words of a run must be separated as in prose — spaces and a little
// punctuation for capitals, spaces (or the backslashes of a literal
// "\n \n") for letters — so that code does not count: MAX_RETRY_COUNT,
// "x, y := a[i], b[j]", a column of constants.
func (d *detector) shape(i int) {
	t := d.s.toks[i]
	gap := d.gap(i)
	if d.capsRun > 0 && (!t.upper || !onlyBytes(gap, " \t,;:!?'\"-")) {
		d.endCaps(i - 1)
	}
	if t.upper {
		d.capsRun++
		d.capsLetters += int(t.hi - t.lo)
	}
	single := t.hi-t.lo == 1 && d.s.low[t.lo] >= 'a' && d.s.low[t.lo] <= 'z'
	if !single || gap == "" || !onlyBytes(gap, " \\") {
		d.spacedRun = 0
	}
	if single {
		d.spacedRun++
		if d.spacedRun >= 6 {
			d.fire(hSpaced)
		}
	}
}

// endCaps closes the run of all-caps words that ends at token last: three
// or more words of twelve or more letters shout, unless they end a line.
func (d *detector) endCaps(last int) {
	if d.capsRun >= 3 && d.capsLetters >= 12 && !d.heading(last) {
		d.fireAt(last, 1<<hShout)
	}
	d.capsRun, d.capsLetters = 0, 0
}

// heading reports whether a line break follows the run of capitals that
// ends at token last, before any other letter: a title such as "GNU FREE
// DOCUMENTATION LICENSE" or "ZUSAMMENFASSUNG VON LEKTION 1", not capitals
// shouted inside a sentence or at the end of a one-line prompt. The scan
// stops at the first letter, which comes before the next run, so all the
// runs of a text cost one pass over it.
func (d *detector) heading(last int) bool {
	for _, r := range d.text[d.s.toks[last].ohi:] {
		switch {
		case r == '\n':
			return true
		case unicode.IsLetter(r):
			return false
		}
	}
	return false
}

// gap is the text between token i-1 and token i; for the first token,
// the text before it.
func (d *detector) gap(i int) string {
	lo := 0
	if i > 0 {
		lo = int(d.s.toks[i-1].ohi)
	}
	return d.text[lo:d.s.toks[i].olo]
}

// onlyBytes reports whether every byte of s is in set.
func onlyBytes(s, set string) bool {
	for k := 0; k < len(s); k++ {
		if strings.IndexByte(set, s[k]) < 0 {
			return false
		}
	}
	return true
}

// Chat-template markers. The strict ones open a system turn.
var (
	strictMarkers = []string{"<|im_start|>system", "<|start_header_id|>system", "<<sys>>", "<|system|>"}
	weakMarkers   = []string{
		"<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|start_header_id|>",
		"<|user|>", "<|assistant|>", "[inst]", "[/inst]", "[system]",
		"### instruction", "### system", "### response",
	}
)

// delimitersBefore records the chat-template markers that start between
// token i-1 and token i. Every marker holds a word, so none starts after
// the last token.
func (d *detector) delimitersBefore(i int) {
	gap := d.gap(i)
	lo := int(d.s.toks[i].olo) - len(gap)
	for k := 0; k < len(gap); k++ {
		j := strings.IndexAny(gap[k:], "<[#")
		if j < 0 {
			return
		}
		k += j
		d.fireSet(marker(d.text[lo+k:]))
	}
}

// marker returns the heuristics of the chat-template marker that starts
// rest, if any.
func marker(rest string) uint32 {
	var fired uint32
	for _, m := range strictMarkers {
		if hasPrefixFold(rest, m) {
			fired |= 1<<hDelimiterStrict | 1<<hDelimiter
		}
	}
	for _, m := range weakMarkers {
		if hasPrefixFold(rest, m) {
			fired |= 1 << hDelimiter
		}
	}
	return fired
}

// hasPrefixFold reports whether s starts with prefix, ignoring ASCII case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && s[0] == prefix[0] && strings.EqualFold(s[:len(prefix)], prefix)
}
