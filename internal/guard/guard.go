// Package guard holds Sluice's guardrails: in-process detectors of
// personal data and secrets, prompt injection and rule violations, the
// reversible redaction of what they find, the streaming machinery that
// lets response-side checks run on a stream as it flows, and model
// judges. The gateway's guardrail stage (internal/gateway) applies them to
// requests and answers according to the configured policies.
//
// Detectors work on text and report Findings: byte ranges of the text
// with what was found. They never log or return the text itself outside a
// Finding's range, and a Finding's String names the kind only.
package guard

import "strconv"

// Finding is one thing a detector found in a text: the bytes
// [Start, End) of it.
type Finding struct {
	// Kind is what was found: "email", "phone", "card", "iban", "ssn",
	// "ipv4", "ipv6", "address", "aws_key", "aws_secret", "gcp_key", "openai_key",
	// "anthropic_key", "github_token", "gitlab_token", "slack_token",
	// "jwt", "private_key", a custom pattern's or word list's name, or
	// a rule's kind ("deny", "topic:<name>", …).
	Kind       string
	Start, End int
	// Score is the detector's confidence from 0 to 1; 1 for exact
	// matches (checksummed numbers, fixed-format secrets).
	Score float64
}

// String names the finding without its text: "email@12-30".
func (f Finding) String() string {
	return f.Kind + "@" + strconv.Itoa(f.Start) + "-" + strconv.Itoa(f.End)
}

// Where a rule applies.
const (
	ApplyRequest  = "request"
	ApplyResponse = "response"
	ApplyBoth     = "both"
)

// What a rule does with what it finds.
const (
	ActionBlock  = "block"  // refuse the request (400 content_blocked) or the answer (response_blocked)
	ActionRedact = "redact" // replace each finding with a placeholder such as [EMAIL_1]
	ActionFlag   = "flag"   // only record it (request log, x-sluice-guardrails)
)
