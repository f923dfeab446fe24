package guard

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Secret detectors. Each starts at a fixed prefix at a word start (or at
// the ':' or '=' after a key name) and checks the token's alphabet and
// length by hand.

// maxToken bounds the prefixed API tokens (OpenAI, Anthropic, GitHub,
// GitLab, Slack): a longer run of token characters is not reported.
const maxToken = 256

// awsLookback is how far before an AWS secret its key name may start: a
// name of up to 40 bytes, quotes and spaces, the ':' or '='.
const awsLookback = 50

// secretAt tries the prefixed secrets at the word start i and returns the
// end of what it found (or i).
func (p *PII) secretAt(dst []Finding, s string, i int) ([]Finding, int) {
	k, end := -1, 0
	switch s[i] {
	case 'A':
		switch {
		case p.on[kAWSKey] && (strings.HasPrefix(s[i:], "AKIA") || strings.HasPrefix(s[i:], "ASIA")):
			if e := runOf(s, i+4, cUpper|cDigit); e-i == 20 && (e == len(s) || !isAlnum(s[e])) {
				k, end = kAWSKey, e
			}
		case p.on[kGCPKey] && strings.HasPrefix(s[i:], "AIza"):
			if e := runOf(s, i+4, cToken); e-i == 39 {
				k, end = kGCPKey, e
			}
		}
	case 's':
		if strings.HasPrefix(s[i:], "sk-ant-") {
			if e := runOf(s, i+7, cToken); p.on[kAnthropicKey] && e-i >= 7+32 && e-i <= maxToken {
				k, end = kAnthropicKey, e
			}
		} else if strings.HasPrefix(s[i:], "sk-") && p.on[kOpenAIKey] {
			if e := runOf(s, i+3, cToken); e-i >= 40 && e-i <= maxToken && mixedCase(s[i+3:e]) {
				k, end = kOpenAIKey, e
			}
		}
	case 'g':
		k, end = p.gitToken(s, i)
	case 'x':
		if p.on[kSlackToken] && strings.HasPrefix(s[i:], "xox") && i+4 < len(s) && strings.IndexByte("bpaesr", s[i+3]) >= 0 && s[i+4] == '-' {
			if e := runOf(s, i+5, cAlnum); e > i+5 {
				e = runOf(s, i, cToken)
				if e-i >= 5+20 && e-i <= maxToken && strings.IndexByte(s[i+5:e], '_') < 0 {
					k, end = kSlackToken, e
				}
			}
		}
	case 'h':
		if p.on[kSlackToken] {
			if e := slackWebhook(s, i); e > 0 {
				k, end = kSlackToken, e
			}
		}
	case 'e':
		if p.on[kJWT] && strings.HasPrefix(s[i:], "eyJ") && (i == 0 || (s[i-1] != '.' && s[i-1] != '-' && s[i-1] != '_')) {
			if e := jwt(s, i); e > 0 {
				k, end = kJWT, e
			}
		}
	}
	if k < 0 {
		return dst, i
	}
	return append(dst, finding(k, i, end, 1)), end
}

// gitToken checks GitHub tokens (ghp_, gho_, ghu_, ghs_, ghr_ and 36 or
// more letters and digits; github_pat_ and 80 or more letters, digits and
// underscores) and GitLab personal tokens (glpat- and 20 or more
// base64url characters) at i. It returns the kind and end, or -1, 0.
func (p *PII) gitToken(s string, i int) (int, int) {
	switch {
	case p.on[kGitHubToken] && strings.HasPrefix(s[i:], "github_pat_"):
		if e := runOf(s, i+11, cToken); e-i >= 11+80 && e-i <= maxToken && strings.IndexByte(s[i:e], '-') < 0 {
			return kGitHubToken, e
		}
	case p.on[kGitHubToken] && strings.HasPrefix(s[i:], "gh") && i+3 < len(s) && strings.IndexByte("pousr", s[i+2]) >= 0 && s[i+3] == '_':
		if e := runOf(s, i+4, cAlnum); e-i >= 4+36 && e-i <= maxToken && (e == len(s) || !is(s[e], cToken)) {
			return kGitHubToken, e
		}
	case p.on[kGitLabToken] && strings.HasPrefix(s[i:], "glpat-"):
		if e := runOf(s, i+6, cToken); e-i >= 6+20 && e-i <= maxToken {
			return kGitLabToken, e
		}
	}
	return -1, 0
}

// mixedCase reports whether tok has an upper-case letter, a lower-case
// letter and a digit, as random keys do and kebab-case names do not.
func mixedCase(tok string) bool {
	var seen uint8
	for i := 0; i < len(tok); i++ {
		seen |= ctype[tok[i]] & cAlnum
	}
	return seen == cAlnum
}

// slackWebhook returns the end of a Slack incoming-webhook URL starting
// at i ("https://hooks.slack.com/services/T…/B…/…", the scheme optional),
// or 0.
func slackWebhook(s string, i int) int {
	const host = "hooks.slack.com/services/"
	j := i
	switch {
	case strings.HasPrefix(s[j:], "https://"):
		j += 8
	case strings.HasPrefix(s[j:], "http://"):
		j += 7
	}
	if !strings.HasPrefix(s[j:], host) {
		return 0
	}
	j += len(host)
	for part, lead := range []byte{'T', 'B', 0} {
		if part > 0 {
			if j >= len(s) || s[j] != '/' {
				return 0
			}
			j++
		}
		if lead != 0 && (j >= len(s) || s[j] != lead) {
			return 0
		}
		e := runOf(s, j, cAlnum)
		if e-j < 8 || e-i > maxToken {
			return 0
		}
		j = e
	}
	return j
}

// maxJWTHeader bounds a JWT's encoded header; the header and its dot are
// what a stream needs to see to recognise the token.
const maxJWTHeader = 240

// jwt returns the end of a JSON Web Token at i: base64url segments joined
// by dots, the first decoding to a JSON object with an "alg" member, with
// three (JWS) to five (JWE) segments; the last may be empty (alg none).
// When the text ends inside the token after the header's dot, the token
// is reported to the end of the text (see PII.MaxSpan).
func jwt(s string, i int) int {
	h := runOf(s, i, cToken)
	if h-i > maxJWTHeader || h >= len(s) || s[h] != '.' {
		return 0
	}
	var buf [maxJWTHeader * 3 / 4]byte
	n, ok := decodeBase64URL(buf[:], s[i:h])
	if !ok || !bytes.Contains(buf[:n], []byte(`"alg"`)) || !json.Valid(buf[:n]) || bytes.TrimSpace(buf[:n])[0] != '{' {
		return 0
	}
	end := runOf(s, h+1, cToken) // payload
	if end == len(s) {
		return end // the text ends inside the token
	}
	if s[end] != '.' {
		return 0
	}
	end = runOf(s, end+1, cToken) // signature, empty for alg none
	for segs := 3; segs < 5 && end+1 < len(s) && s[end] == '.' && is(s[end+1], cToken); segs++ {
		end = runOf(s, end+1, cToken) // JWE: ciphertext, tag
	}
	return end
}

// b64url maps base64url characters to their values; 0xFF marks others.
var b64url = func() (t [256]byte) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range t {
		t[i] = 0xFF
	}
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// decodeBase64URL decodes unpadded base64url src into dst, which must
// hold len(src)*3/4 bytes, and returns the decoded length. It reports
// false for a character outside the alphabet, an impossible length
// (len%4 == 1) or non-zero trailing bits.
func decodeBase64URL(dst []byte, src string) (int, bool) {
	if len(src)%4 == 1 {
		return 0, false
	}
	n, acc, bits := 0, uint(0), uint(0)
	for i := 0; i < len(src); i++ {
		v := b64url[src[i]]
		if v == 0xFF {
			return 0, false
		}
		acc, bits = acc<<6|uint(v), bits+6
		if bits >= 8 {
			bits -= 8
			dst[n] = byte(acc >> bits)
			n++
		}
	}
	if acc&(1<<bits-1) != 0 {
		return 0, false
	}
	return n, true
}

// awsSecret checks for an AWS secret access key after the ':' or '=' at c:
// a key name before it that mentions "secret" and "aws" or "access"
// (aws_secret_access_key, SecretAccessKey, …) and, after quotes or spaces,
// exactly 40 standard-base64 characters. It returns the key's range, or
// 0, 0.
func awsSecret(s string, c int) (int, int) {
	k := c
	for k > 0 && c-k < 4 && isQuoteSpace(s[k-1]) {
		k--
	}
	id := k
	for id > 0 && k-id < 40 && (isAlnum(s[id-1]) || s[id-1] == '_') {
		id--
	}
	name := s[id:k]
	if !containsFold(name, "secret") || !(containsFold(name, "aws") || containsFold(name, "access")) {
		return 0, 0
	}
	t := c + 1
	for t < len(s) && t-c <= 4 && isQuoteSpace(s[t]) {
		t++
	}
	e := runOf(s, t, cB64)
	if e-t != 40 || (e < len(s) && (is(s[e], cToken) || s[e] == '=')) {
		return 0, 0
	}
	return t, e
}

// gcpLookback is how far before a service-account key id its member
// name may start: "private_key_id", spaces, ':', spaces and a quote.
const gcpLookback = 26

// gcpKeyID checks for the "private_key_id" member of a Google service
// account key at the ':' at c: 40 lower-case hex digits in quotes. It
// returns the id's range, or 0, 0.
func gcpKeyID(s string, c int) (int, int) {
	const name = `"private_key_id"`
	k := c
	for k > 0 && c-k < 4 && (s[k-1] == ' ' || s[k-1] == '\t') {
		k--
	}
	if k < len(name) || s[k-len(name):k] != name {
		return 0, 0
	}
	t := c + 1
	for t < len(s) && t-c <= 4 && (s[t] == ' ' || s[t] == '\t') {
		t++
	}
	if t+42 > len(s) || s[t] != '"' || s[t+41] != '"' {
		return 0, 0
	}
	for _, x := range []byte(s[t+1 : t+41]) {
		if !isDigit(x) && (x < 'a' || x > 'f') {
			return 0, 0
		}
	}
	return t + 1, t + 41
}

// isQuoteSpace reports whether c may sit between a key name, its ':' or
// '=' and its value.
func isQuoteSpace(c byte) bool { return c == ' ' || c == '\t' || c == '"' || c == '\'' }

// containsFold reports whether s contains the lower-case ASCII word w,
// ignoring ASCII case.
func containsFold(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if hasFoldPrefix(s[i:], w) {
			return true
		}
	}
	return false
}

// maxPEMLabel bounds the label of a PEM BEGIN line ("RSA PRIVATE KEY").
const maxPEMLabel = 40

// privateKey finds a PEM private key at the '-' at i: a
// "-----BEGIN <label>-----" line whose label ends in PRIVATE KEY (or
// PRIVATE KEY BLOCK, for PGP), through the matching END line, or to the
// end of the text when there is none.
func privateKey(dst []Finding, s string, i int) ([]Finding, int) {
	const begin, dashes = "-----BEGIN ", "-----"
	if !strings.HasPrefix(s[i:], begin) {
		return dst, i + 1
	}
	l := i + len(begin)
	e := strings.Index(s[l:min(len(s), l+maxPEMLabel+len(dashes))], dashes)
	if e < 0 {
		return dst, i + 1
	}
	label := s[l : l+e]
	if !strings.HasSuffix(label, "PRIVATE KEY") && !strings.HasSuffix(label, "PRIVATE KEY BLOCK") {
		return dst, i + 1
	}
	for _, c := range []byte(label) {
		if c != ' ' && !is(c, cUpper|cDigit) {
			return dst, i + 1
		}
	}
	end := len(s)
	for k := l + e + len(dashes); ; {
		x := strings.Index(s[k:], "-----END ")
		if x < 0 {
			break
		}
		y := k + x + len("-----END ")
		if strings.HasPrefix(s[y:], label) && strings.HasPrefix(s[y+len(label):], dashes) {
			end = y + len(label) + len(dashes)
			break
		}
		k = y
	}
	return append(dst, finding(kPrivateKey, i, end, 1)), end
}
