package config

import (
	"context"
	"regexp"
	"time"

	"github.com/sluicehq/sluice/internal/guard"
)

// Guardrail is one rule of the guardrail policy: a detector, where it
// looks (the request, the answer or both), what it does with what it
// finds, and to which callers and models it applies. Rules run in the
// order they are listed; a block ends the request at once.
type Guardrail struct {
	// ID names the rule in errors, the x-sluice-guardrails header and the
	// request log. Required, unique, letters, digits, '_', '-' and '.',
	// at most 64 bytes.
	ID string `yaml:"id"`
	// Detector is what the rule looks for:
	//   - "pii": personal data (email, phone, card, iban, ssn, ipv4, ipv6,
	//     address), plus the custom patterns and words below;
	//   - "secrets": credentials (cloud, AI-provider, GitHub, GitLab and
	//     Slack keys and tokens, JWTs, private keys);
	//   - "injection": prompt-injection and jailbreak attempts in user and
	//     tool messages (an in-process classifier; requests only);
	//   - "rules": deny and allow regexes, keywords, blocked topics and
	//     size limits;
	//   - "schema": answers that are not JSON valid against the request's
	//     response_format json_schema (or Schema below); answers only;
	//   - "judge": a model asked whether the text is safe.
	Detector string `yaml:"detector"`
	// Apply is where the rule looks: "request" (default: the messages
	// sent), "response" (the answer, streams included, as they flow) or
	// "both".
	Apply string `yaml:"apply"`
	// Action is what a finding does: "block" (default: 400
	// content_blocked for a request, response_blocked for an answer),
	// "redact" (pii, secrets, rules: each finding replaced by a
	// placeholder such as [EMAIL_1] before the text goes on) or "flag"
	// (only recorded).
	Action string `yaml:"action"`
	// Restore (redact on requests) puts the original values back into
	// the answer where the model used their placeholders, so the
	// provider never sees them but the client gets a useful answer.
	Restore bool `yaml:"restore,omitempty"`
	// Threshold is the injection score (0 to 1) at which the rule fires.
	// Default: the classifier's own threshold.
	Threshold float64 `yaml:"threshold,omitempty"`

	// Tenants, Keys and Models limit the rule to callers of those
	// tenants, to those key ids, and to requests for those models (as
	// requested, or as a conditional route rewrote them). Empty: all.
	Tenants []string `yaml:"tenants,omitempty"`
	Keys    []string `yaml:"keys,omitempty"`
	Models  []string `yaml:"models,omitempty"`

	// Kinds limits pii and secrets to some of their kinds. Empty: all of
	// the detector's.
	Kinds []string `yaml:"kinds,omitempty"`
	// Patterns are custom regular expressions (RE2), each a kind of its
	// own for pii.
	Patterns []GuardPattern `yaml:"patterns,omitempty"`
	// Words are word lists (whole words, any case), each a kind of its
	// own for pii.
	Words []GuardWords `yaml:"words,omitempty"`

	// Deny, Allow, Keywords, Topics, MaxPromptTokens and MaxMessages are
	// the rules detector's: text matching a Deny regex, text matching no
	// Allow regex (when some are set), a keyword, a keyword of a topic,
	// a prompt estimated above MaxPromptTokens tokens or with more than
	// MaxMessages messages. Zero values: off.
	Deny            []string            `yaml:"deny,omitempty"`
	Allow           []string            `yaml:"allow,omitempty"`
	Keywords        []string            `yaml:"keywords,omitempty"`
	Topics          map[string][]string `yaml:"topics,omitempty"`
	MaxPromptTokens int                 `yaml:"max_prompt_tokens,omitempty"`
	MaxMessages     int                 `yaml:"max_messages,omitempty"`

	// Schema is the JSON Schema answers must satisfy (schema detector);
	// empty takes the request's response_format json_schema, and requests
	// without one are not checked. Retry (schema, action block) asks the
	// model once more before refusing the answer.
	Schema JSON `yaml:"schema,omitempty" json:",omitempty"`
	Retry  bool `yaml:"retry,omitempty"`

	// Model is the judge: a virtual model or provider/model asked, through
	// the gateway's own providers, whether the text is safe. Required for
	// the judge detector.
	Model string `yaml:"model,omitempty"`
	// Prompt is the judge's prompt, with {{text}} where the text goes.
	// Default: a Llama Guard-style prompt asking for "safe" or "unsafe"
	// and the violated categories.
	Prompt string `yaml:"prompt,omitempty"`
	// Categories maps the judge's category codes to actions (block or
	// flag); an unsafe verdict with no mapped category takes Action.
	Categories map[string]string `yaml:"categories,omitempty"`
	// Timeout bounds the judge's answer. Default 5s.
	Timeout Duration `yaml:"timeout,omitempty"`
	// FailOpen lets text through when the judge fails or times out.
	// Default false: the rule's action applies (fail closed).
	FailOpen bool `yaml:"fail_open,omitempty"`
}

// GuardPattern is a named custom regular expression.
type GuardPattern struct {
	Name  string `yaml:"name"`
	Regex string `yaml:"regex"`
}

// GuardWords is a named word list.
type GuardWords struct {
	Name  string   `yaml:"name"`
	Words []string `yaml:"words"`
}

// Guardrail detectors.
const (
	DetectorPII       = "pii"
	DetectorSecrets   = "secrets"
	DetectorInjection = "injection"
	DetectorRules     = "rules"
	DetectorSchema    = "schema"
	DetectorJudge     = "judge"
)

const defaultJudgeTimeout = Duration(5 * time.Second)

// guardrailDefaults fills each rule's defaults.
func (c *Config) guardrailDefaults() {
	for i := range c.Guardrails {
		g := &c.Guardrails[i]
		if g.Apply == "" {
			g.Apply = "request"
		}
		if g.Action == "" {
			g.Action = "block"
		}
		if g.Detector == DetectorSchema && !c.src.explicit(fieldPath(indexPath("guardrails", i), "apply")) {
			g.Apply = "response"
		}
		if g.Detector == DetectorJudge {
			c.defaultDuration(&g.Timeout, fieldPath(indexPath("guardrails", i), "timeout"), defaultJudgeTimeout)
		}
	}
}

// guardrails checks the rules. The detectors compile them again when the
// gateway builds them (the pii kinds, for one, are theirs to know); what
// is checked here is what needs no detector.
func (v *validator) guardrails(known map[string]bool) {
	seen := make(map[string]string, len(v.c.Guardrails))
	for i := range v.c.Guardrails {
		g := &v.c.Guardrails[i]
		path := indexPath("guardrails", i)
		switch {
		case g.ID == "":
			v.missing(fieldPath(path, "id"), "every guardrail needs an id")
		case len(g.ID) > maxRouteNameLen || !routeName(g.ID):
			v.bad(fieldPath(path, "id"), "must be 1 to %d letters, digits, '_', '-' or '.'", maxRouteNameLen)
		case seen[g.ID] != "":
			v.bad(fieldPath(path, "id"), "%s is already the id of %s", v.q(fieldPath(path, "id"), g.ID), seen[g.ID])
		default:
			seen[g.ID] = path
		}
		v.guardrail(g, path, known)
		for j, m := range g.Models {
			v.routeModel(indexPath(fieldPath(path, "models"), j), m, known)
		}
		if len(v.errs) == 0 {
			v.compiles(g, path)
		}
	}
}

func (v *validator) guardrail(g *Guardrail, path string, known map[string]bool) {
	switch g.Apply {
	case "request", "response", "both":
	default:
		v.bad(fieldPath(path, "apply"), "must be request, response or both, got %s", v.q(fieldPath(path, "apply"), g.Apply))
	}
	switch g.Action {
	case "block", "flag":
	case "redact":
		if g.Detector != DetectorPII && g.Detector != DetectorSecrets && g.Detector != DetectorRules {
			v.bad(fieldPath(path, "action"), "redact works with the pii, secrets and rules detectors only")
		}
	default:
		v.bad(fieldPath(path, "action"), "must be block, redact or flag, got %s", v.q(fieldPath(path, "action"), g.Action))
	}
	if g.Restore && (g.Action != "redact" || g.Apply == "response") {
		v.bad(fieldPath(path, "restore"), "needs action: redact on requests (apply: request or both)")
	}
	switch g.Detector {
	case DetectorPII, DetectorSecrets:
		for j, p := range g.Patterns {
			pp := indexPath(fieldPath(path, "patterns"), j)
			if p.Name == "" {
				v.missing(fieldPath(pp, "name"), "a pattern needs a name (its kind)")
			}
			if _, err := regexp.Compile(p.Regex); err != nil || p.Regex == "" {
				v.bad(fieldPath(pp, "regex"), "must be a valid RE2 regular expression")
			}
		}
		for j, w := range g.Words {
			if w.Name == "" || len(w.Words) == 0 {
				v.missing(indexPath(fieldPath(path, "words"), j), "a word list needs a name and at least one word")
			}
		}
	case DetectorInjection:
		if g.Apply != "request" {
			v.bad(fieldPath(path, "apply"), "the injection detector checks requests only")
		}
		if !(g.Threshold >= 0 && g.Threshold <= 1) {
			v.bad(fieldPath(path, "threshold"), "must be from 0 to 1 (0 takes the classifier's own)")
		}
	case DetectorRules:
		for _, list := range []struct {
			name string
			res  []string
		}{{"deny", g.Deny}, {"allow", g.Allow}} {
			for j, re := range list.res {
				if _, err := regexp.Compile(re); err != nil {
					v.bad(indexPath(fieldPath(path, list.name), j), "must be a valid RE2 regular expression")
				}
			}
		}
		if g.MaxPromptTokens < 0 || g.MaxMessages < 0 {
			v.bad(path, "max_prompt_tokens and max_messages must not be negative (0 is no limit)")
		}
		if len(g.Deny)+len(g.Allow)+len(g.Keywords)+len(g.Topics) == 0 && g.MaxPromptTokens == 0 && g.MaxMessages == 0 {
			v.missing(path, "a rules guardrail needs deny, allow, keywords, topics, max_prompt_tokens or max_messages")
		}
	case DetectorSchema:
		if g.Apply != "response" {
			v.bad(fieldPath(path, "apply"), "the schema detector checks answers only (apply: response)")
		}
		if g.Action == "redact" {
			v.bad(fieldPath(path, "action"), "the schema detector blocks or flags")
		}
	case DetectorJudge:
		if g.Model == "" {
			v.missing(fieldPath(path, "model"), "the judge detector needs a model to ask")
		} else {
			v.routeModel(fieldPath(path, "model"), g.Model, known)
		}
		for code, a := range g.Categories {
			if a != "block" && a != "flag" {
				v.bad(fieldPath(path, "categories"), "category %q: action must be block or flag", code)
			}
		}
		if g.Timeout <= 0 {
			v.bad(fieldPath(path, "timeout"), "must be more than 0")
		}
	case "":
		v.missing(fieldPath(path, "detector"), "one of pii, secrets, injection, rules, schema or judge")
	default:
		v.bad(fieldPath(path, "detector"), "must be pii, secrets, injection, rules, schema or judge, got %s",
			v.q(fieldPath(path, "detector"), g.Detector))
	}
}

// PIIOptions are the options of a pii or secrets rule's detector: its
// kinds (all of the detector's when none are listed), patterns and words.
func (g *Guardrail) PIIOptions() guard.PIIOptions {
	o := guard.PIIOptions{Kinds: g.Kinds}
	if len(o.Kinds) == 0 {
		o.Kinds = guard.PIIKinds
		if g.Detector == DetectorSecrets {
			o.Kinds = guard.SecretKinds
		}
	}
	for _, p := range g.Patterns {
		o.Patterns = append(o.Patterns, guard.Pattern{Name: p.Name, Regex: p.Regex})
	}
	for _, w := range g.Words {
		o.Words = append(o.Words, guard.WordList{Name: w.Name, Words: w.Words})
	}
	return o
}

// RulesOptions are the options of a rules rule's detector.
func (g *Guardrail) RulesOptions() guard.RulesOptions {
	return guard.RulesOptions{Deny: g.Deny, Allow: g.Allow, Keywords: g.Keywords, Topics: g.Topics,
		MaxPromptTokens: g.MaxPromptTokens, MaxMessages: g.MaxMessages}
}

// JudgeOptions are the options of a judge rule's detector; ask is how
// it calls its model.
func (g *Guardrail) JudgeOptions(ask func(ctx context.Context, prompt string) (string, error)) guard.JudgeOptions {
	return guard.JudgeOptions{Ask: ask, Prompt: g.Prompt, Categories: g.Categories, DefaultAction: g.Action,
		Timeout: g.Timeout.Std(), FailOpen: g.FailOpen}
}

// compiles builds the rule's detector as the gateway will, so that a
// config that validates also starts: unknown kinds, patterns that match
// the empty string, bad word lists, schemas and judge prompts are found
// here.
func (v *validator) compiles(g *Guardrail, path string) {
	var err error
	switch g.Detector {
	case DetectorPII, DetectorSecrets:
		_, err = guard.NewPII(g.PIIOptions())
	case DetectorRules:
		_, err = guard.NewRules(g.RulesOptions())
	case DetectorSchema:
		if len(g.Schema) > 0 {
			_, err = guard.NewSchema([]byte(g.Schema))
		}
	case DetectorJudge:
		_, err = guard.NewJudge(g.JudgeOptions(func(context.Context, string) (string, error) { return "", nil }))
	}
	if err != nil {
		v.bad(path, "%s", err.Error())
	}
}
