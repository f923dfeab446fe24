package injection

import "strings"

// Word classes of the lexicon, used by the heuristics. A word may be in
// several classes.
const (
	cOver       uint32 = 1 << iota // an imperative that throws instructions away: ignore, forget, vergiss, olvida…
	cOverPast                      // the same verb after its object: ignored, ignorieren (German verb-final)
	cQual                          // a quantifier or possessive before the target: all, any, your, alle, deine…
	cQualPos                       // a positional qualifier: previous, prior, above, vorherigen, obigen…
	cTarget                        // what an injection throws away: instructions, prompt, rules, anweisungen…
	cTargetWeak                    // a vaguer target: tasks, information, context, aufgaben…
	cAllWord                       // "everything": everything, alles, todo, tout…
	cPositional                    // after "everything": before, above, davor, vorher, antes…
	cReveal                        // asks to disclose: reveal, print, show, what, zeige, verrate…
	cPossess                       // your, deine, ihre, tus, votre…
	cFull                          // full, entire, initial, original, hidden, above, gesamten…
	cPromptTgt                     // prompt, instructions, systemprompt, anweisungen…
	cPersona                       // starts a persona request: act, pretend, imagine, roleplay, bist…
	cNeg                           // without, no, free, ohne, keine…
	cLimit                         // rules, restrictions, filters, ethics, einschränkungen…
	cUnbound                       // unrestricted, unfiltered, uncensored, immoral…
	cPraise                        // well, great, excellent, sehr, gut, okay…
	cPivot                         // now, nun, jetzt
	cDocs                          // articles, documents, context, artikel, kontext…
	cDismiss                       // not, don't, without, instead, regardless, nicht…
	cSay                           // say, output, print, write, answer, sage, schreibe…
	cOnly                          // just, only, simply, nur, solo
	cJail                          // jailbreak vocabulary and AI names: jailbreak, mode, dan, chatgpt…
	cNew                           // new, further, additional, neue, weitere
	cTaskNoun                      // instructions, task, tasks, aufgabe, anweisungen…
	cRoleLabel                     // a chat role name: system, human, assistant, user
	cInterrupt                     // stop, attention, achtung, stopp, halt
	cEvil                          // evil, malicious, rogue, böse: before "AI" it asks for an unbound persona
	cHead                          // a noun that makes the word before it a modifier: "instructions path", "prompt file"
)

// lexiconWords lists the words of each class, space separated, English
// first, then German, then a few other languages seen in attacks.
var lexiconWords = map[uint32]string{
	cOver: "ignore ignoring disregard disregarding forget forgetting drop abandon discard override overwrite bypass neglect dismiss scrap " +
		"ignoriere ignorier ignorieren ignoriert vergiss vergesst vergessen missachte missachten übergehe abweichend " +
		"ignora ignorar ignorez olvida olvide olvidar olvidate oubliez oublie oublier zaboravi забудьте забудь игнорируй игнорируйте",
	cOverPast: "ignored disregarded forgotten dropped ignorieren ignoriert vergessen missachten übergehen",
	cQual:     "all any every your system original initial alle allen aller deine deinen ihre ihren sämtliche todas toutes tous sve все свои",
	cQualPos: "previous prior above preceding earlier former foregoing aforementioned before " +
		"vorherigen vorherige vorheriger bisherigen bisherige obigen obige vorangehenden vorangegangenen vorangegangene früheren " +
		"anteriores anterior précédentes précédente prethodne предыдущие",
	cTarget: "instructions instruction prompts prompt rules directives directive guidelines orders commands programming " +
		"anweisungen anweisung instruktionen befehle regeln vorgaben richtlinien " +
		"instrucciones consignes instrukcije инструкции указания правила",
	cTargetWeak: "tasks task assignments assignment information context conversation documents articles " +
		"aufgaben aufträge angaben informationen ausführungen kontext",
	cAllWord:    "everything alles todo tout sve всё все",
	cPositional: "before above previous prior earlier beforehand davor vorher zuvor bisher gesagte obige antes avant",
	cReveal: "reveal print show output display repeat tell give share leak dump copy spell what " +
		"zeige zeig zeigen gib geben verrate nenne wiederhole drucke muestra dime montre",
	cPossess:   "your yours deine deinen dein deiner ihre ihren ihrer tus tu votre vos",
	cFull:      "full entire complete whole initial original hidden secret above beginning gesamten gesamte vollständigen ursprünglichen",
	cPromptTgt: "prompt prompts instructions instruction systemprompt anweisungen instruktionen instrucciones",
	cPersona:   "act acting pretend imagine roleplay role you now from stay break bist tu stell fungieren spiele bleiben bleibt",
	cNeg:       "without no free beyond not ohne keine kein sin sans",
	cLimit: "rules restrictions restriction filters filter limits limitations guidelines ethics ethical morals moral morality censorship " +
		"boundaries policies policy constraints guardrails safeguards einschränkungen regeln grenzen zensur richtlinien beschränkungen",
	cUnbound:   "unrestricted unfiltered uncensored immoral amoral unethical unbound uneingeschränkt",
	cPraise:    "well very great excellent fantastic wow congratulations perfect awesome brilliant super sehr gut ausgezeichnet ausgezeichnete fantastisch großartig toll prima okay ok good done enough",
	cPivot:     "now nun jetzt",
	cDocs:      "articles article documents document context artikels artikel dokumente dokumenten kontext sources told",
	cDismiss:   "not don nt t without instead regardless despite disregarding ignore ignoring nicht ohne keine",
	cSay:       "say state output print write answer reply respond type repeat tell sagen sage schreibe schreib ausgeben antworte decir di dites",
	cOnly:      "just only simply nur solo",
	cJail:      "jailbreak jailbroken jailbreaking mode dan do chatgpt gpt llm ai ki bot chatbot assistant",
	cNew:       "new neue neuen further additional weitere",
	cTaskNoun:  "instructions instruction task tasks orders assignment assignments aufgabe aufgaben anweisungen anweisung instruktionen",
	cRoleLabel: "system human assistant user",
	cInterrupt: "stop stopp attention achtung halt",
	cEvil:      "evil malicious rogue böse bösartige",
	cHead: "path paths file files folder folders directory directories dir url urls link links page pages field fields " +
		"flag flags option options setting settings variable variables parameter parameters template templates section " +
		"button manual booklet sheet leaflet pdf",
}

// lexicon maps a lower-cased word to its classes.
var lexicon = func() map[string]uint32 {
	m := map[string]uint32{}
	for cls, words := range lexiconWords {
		for _, w := range strings.Fields(words) {
			m[w] |= cls
		}
	}
	return m
}()

// classify sets the lexicon classes of every token.
func classify(s *scratch) {
	for i := range s.toks {
		t := &s.toks[i]
		t.cls = lexicon[string(s.low[t.lo:t.hi])]
	}
}
