package injection

// The heuristic features. Each is a yes/no fact about the text with a
// learned weight; the ones in ruleMask are also rules that lift the score
// to at least RuleFloor.
const (
	hOverride          = iota // override verb + qualifier + instruction target: "ignore all previous instructions"
	hForgetEverything         // "forget everything before", "ignore above and…", "vergiss alles davor"
	hOverrideWeak             // override verb near a vaguer target: "forget about all the assignments"
	hReveal                   // reveal verb + your/full + prompt: "print your instructions", "zeige deinen Prompt"
	hPromptMention            // reveal verb + prompt without a possessive: "show the system prompt"
	hPersona                  // "act as", "pretend", "you are now", "role-play", "du bist jetzt"
	hNoRestrict               // "without rules", "no restrictions", "uncensored"
	hPersonaNoRestrict        // persona and no-restrictions together
	hJailbreak                // "jailbreak", "developer mode", "DAN"
	hJailbreakStrict          // "do anything now", "developer mode" + ChatGPT, "DAN" + persona
	hDelimiter                // chat-template tokens: "[INST]", "<|im_end|>", "### Instruction"
	hDelimiterStrict          // a system turn opened: "<|im_start|>system", "<<SYS>>"
	hNewInstructions          // "new instructions", "neue Aufgabe", "Instruction:"
	hForceOutput              // "just say", "print the following", "repeat after me"
	hPraisePivot              // "Well done! Now …", "Sehr gut. Nun …"
	hContextDismiss           // "not by the articles", "ignore the documents", "despite what you've been told"
	hRoleLabel                // a line that starts "System:" or "Human:"
	hShout                    // three or more all-caps words in a row
	hSpaced                   // s p a c e d   o u t letters
	hInterrupt                // "stop -", "Attention -", "ACHTUNG - STOPP -": an interruption of the task
	numHeur
)

// heurNames names the heuristic features for Explain.
var heurNames = [numHeur]string{
	"override", "forget_everything", "override_weak", "reveal_prompt", "prompt_mention",
	"persona", "no_restrictions", "persona_no_restrictions", "jailbreak", "jailbreak_strict",
	"delimiter", "delimiter_system", "new_instructions", "force_output", "praise_pivot",
	"context_dismiss", "role_label", "shout", "spaced", "interrupt",
}

// ruleMask holds the heuristics that are also rules.
const ruleMask = 1<<hOverride | 1<<hForgetEverything | 1<<hReveal |
	1<<hPersonaNoRestrict | 1<<hJailbreakStrict | 1<<hDelimiterStrict

// Proximity limits, in tokens, within one sentence.
const (
	overrideReach = 6
	revealReach   = 12
)

// Facts that heuristics combine within one window. They are not features
// themselves: combine turns them into heuristics and drops them.
const (
	fDevMode = numHeur + iota // "developer mode", "DAN mode", "god mode"
	fDAN                      // "DAN" in capitals
	fAINamed                  // ChatGPT, GPT, LLM, AI
)

// heurBits masks the heuristic bits of a set of heuristics and facts.
const heurBits = 1<<numHeur - 1

// event is the heuristics and facts that fire at one token.
type event struct {
	pos  int32  // the token
	bits uint32 // 1<<h for each heuristic h and fact that fires there
}

// detector walks the tokens once and records the heuristics that fire,
// with the token where each fires, in s.events.
type detector struct {
	s                    *scratch
	text                 string
	at                   int // the token being looked at
	praiseAt             int
	capsRun, capsLetters int // the words and letters of the run of all-caps words
	spacedRun            int
}

// detect records in s.events, in token order, the heuristics that fire
// on the tokenized, classified text, and returns those that fire on the
// text as a whole (see combine).
func detect(s *scratch, text string) uint32 {
	s.events = s.events[:0]
	d := detector{s: s, text: text, praiseAt: -1}
	for i := range s.toks {
		d.at = i
		d.shape(i) // first: it may record a run of capitals that ended at i-1
		d.delimitersBefore(i)
		if c := s.toks[i].cls; c != 0 {
			d.token(i, c)
		}
	}
	if d.capsRun > 0 {
		d.endCaps(len(s.toks) - 1)
	}
	return firedIn(s.events, 0, len(s.toks))
}

// firedIn returns the heuristics that fire in the tokens [lo, hi): those
// of the events there, combined. The events are in token order.
func firedIn(events []event, lo, hi int) uint32 {
	var b uint32
	for _, e := range events {
		if int(e.pos) >= hi {
			break
		}
		if int(e.pos) >= lo {
			b |= e.bits
		}
	}
	return combine(b)
}

// combine adds to b the heuristics that need two facts of one window —
// persona with no restrictions, developer mode with an AI name, DAN with
// a persona — and drops the facts.
func combine(b uint32) uint32 {
	has := func(h int) bool { return b&(1<<h) != 0 }
	if has(hPersona) && has(hNoRestrict) {
		b |= 1 << hPersonaNoRestrict
	}
	if has(fDevMode) && has(fAINamed) || has(fDAN) && has(hPersona) {
		b |= 1 << hJailbreakStrict
	}
	return b & heurBits
}

// fire records heuristic or fact h at the current token.
func (d *detector) fire(h int) { d.fireSet(1 << h) }

// fireSet records the heuristics and facts in bits at the current token.
func (d *detector) fireSet(bits uint32) { d.fireAt(d.at, bits) }

// fireAt records the heuristics and facts in bits at token pos, which
// must not precede the token of the last event.
func (d *detector) fireAt(pos int, bits uint32) {
	if bits == 0 {
		return
	}
	ev := d.s.events
	if n := len(ev); n > 0 && int(ev[n-1].pos) == pos {
		ev[n-1].bits |= bits
		return
	}
	d.s.events = append(ev, event{pos: int32(pos), bits: bits})
}

// token applies the heuristics that start at a word of classes c.
func (d *detector) token(i int, c uint32) {
	if c&cOver != 0 {
		d.fireSet(d.override(i))
	}
	if c&cOverPast != 0 && d.overrideBack(i) {
		d.fire(hOverrideWeak)
	}
	if c&cReveal != 0 {
		d.fireSet(d.reveal(i))
	}
	if c&cPersona != 0 && d.personaAt(i) {
		d.fire(hPersona)
	}
	if c&cNeg != 0 && d.ahead(i, 3, cLimit) || c&cUnbound != 0 || c&cEvil != 0 && d.ahead(i, 2, cJail) {
		d.fire(hNoRestrict)
	}
	if c&cJail != 0 {
		d.jailbreak(i)
	}
	if c&cNew != 0 && d.ahead(i, 2, cTaskNoun) || c&cTaskNoun != 0 && d.instructionsChanged(i) {
		d.fire(hNewInstructions)
	}
	if c&cOnly != 0 && d.ahead(i, 2, cSay) || c&cSay != 0 && d.sayWhat(i) {
		d.fire(hForceOutput)
	}
	if c&cDocs != 0 && d.behind(i, 5, cDismiss) {
		d.fire(hContextDismiss)
	}
	if c&cRoleLabel != 0 && d.roleLabel(i) {
		d.fire(hRoleLabel)
	}
	if c&cInterrupt != 0 && d.interrupted(i) {
		d.fire(hInterrupt)
	}
	d.praise(i, c)
}

// is reports whether token i exists and is the word w.
func (d *detector) is(i int, w string) bool {
	if i < 0 || i >= len(d.s.toks) {
		return false
	}
	t := d.s.toks[i]
	return string(d.s.low[t.lo:t.hi]) == w
}

// ahead reports whether one of the k tokens after i, in the same
// sentence, has a class in cls.
func (d *detector) ahead(i, k int, cls uint32) bool {
	return d.find(i, k, cls) >= 0
}

// find returns the first of the k tokens after i, in the same sentence,
// with a class in cls, or -1.
func (d *detector) find(i, k int, cls uint32) int {
	for j := i + 1; j <= i+k && j < len(d.s.toks); j++ {
		if d.s.toks[j].brk {
			return -1
		}
		if d.s.toks[j].cls&cls != 0 {
			return j
		}
	}
	return -1
}

// behind reports whether one of the k tokens before i, in the same
// sentence, has a class in cls.
func (d *detector) behind(i, k int, cls uint32) bool {
	for j := i - 1; j >= i-k && j >= 0; j-- {
		if d.s.toks[j+1].brk {
			return false
		}
		if d.s.toks[j].cls&cls != 0 {
			return true
		}
	}
	return false
}

// override looks after an override verb at i for what it throws away.
func (d *detector) override(i int) uint32 {
	var qual, qualPos, weak bool
	allAt := -1
	for j := i + 1; j <= i+overrideReach && j < len(d.s.toks); j++ {
		t := d.s.toks[j]
		if t.brk {
			break
		}
		if t.cls&(cTarget|cTargetWeak) != 0 && d.ahead(j, 1, cHead) {
			continue // "override the default instructions path": not the object
		}
		switch {
		case t.cls&cTarget != 0:
			if qual || qualPos || allAt >= 0 {
				return 1 << hOverride
			}
			return 1 << hOverrideWeak
		case t.cls&cTargetWeak != 0 && qualPos:
			return 1 << hOverride
		case t.cls&cTargetWeak != 0:
			weak = true
		}
		if t.cls&cAllWord != 0 && allAt < 0 {
			allAt = j
		}
		qual = qual || t.cls&cQual != 0
		qualPos = qualPos || t.cls&cQualPos != 0
	}
	switch {
	case allAt >= 0 && d.ahead(allAt, 3, cPositional), d.bareAbove(i):
		return 1 << hForgetEverything
	case weak || allAt >= 0:
		return 1 << hOverrideWeak
	}
	return 0
}

// bareAbove reports "ignore above" used as a whole object: the verb at i
// followed by a positional word that ends the clause or meets "and".
func (d *detector) bareAbove(i int) bool {
	if !d.is(i+1, "above") && !d.is(i+1, "davor") && !d.is(i+1, "obige") || d.s.toks[i+1].brk {
		return false
	}
	n := i + 2
	return n >= len(d.s.toks) || d.s.toks[n].brk || d.is(n, "and") || d.is(n, "und")
}

// overrideBack handles the verb after its object ("die obigen Anweisungen
// ignorieren", "previous instructions are ignored").
func (d *detector) overrideBack(i int) bool {
	var target, qual bool
	for j := i - 1; j >= i-5 && j >= 0; j-- {
		if d.s.toks[j+1].brk {
			break
		}
		c := d.s.toks[j].cls
		target = target || c&(cTarget|cTargetWeak) != 0
		qual = qual || c&(cQual|cQualPos) != 0
	}
	return target && qual
}

// reveal looks after a disclosure verb at i for the prompt it asks for.
func (d *detector) reveal(i int) uint32 {
	var owned bool
	for j := i + 1; j <= i+revealReach && j < len(d.s.toks); j++ {
		t := d.s.toks[j]
		if t.brk {
			return 0
		}
		if t.cls&cPromptTgt != 0 && !d.ahead(j, 1, cHead) {
			if owned {
				return 1 << hReveal
			}
			return 1 << hPromptMention
		}
		owned = owned || t.cls&(cPossess|cFull) != 0
	}
	return 0
}
