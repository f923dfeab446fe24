package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// KeyPrefix starts every gateway key secret.
const KeyPrefix = "sk-sluice-"

const (
	// keyBytes is the entropy of a key secret.
	keyBytes = 32
	// keyDigits is the base62 length of keyBytes: 62^43 > 2^256.
	keyDigits = 43
	// KeyLen is the length of a whole key secret, prefix included.
	KeyLen = len(KeyPrefix) + keyDigits
	// displayLen is how much of a secret DisplayPrefix shows: the prefix and
	// four random characters (about 24 bits, too few to help a guesser).
	displayLen = len(KeyPrefix) + 4
	// idDigits is the number of base32 characters after an ID's prefix.
	idDigits = 20
)

const (
	base62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	base32 = "abcdefghijklmnopqrstuvwxyz234567"
)

// NewKey returns a fresh key secret: KeyPrefix followed by 32 bytes from
// crypto/rand written as exactly 43 base62 digits (most significant first,
// leading zeros kept, alphabet 0-9a-zA-Z as in math/big). The error is
// reserved for a failing random source; crypto/rand in current Go never
// returns one.
func NewKey() (secret string, err error) {
	var raw [keyBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	return encodeKey(raw), nil
}

// encodeKey writes raw as KeyPrefix plus keyDigits base62 digits.
func encodeKey(raw [keyBytes]byte) string {
	var out [KeyLen]byte
	copy(out[:], KeyPrefix)
	// Long division of the big-endian number in raw by 62, filling digits
	// from the right; the number has at most keyDigits digits.
	num := raw
	for i := KeyLen - 1; i >= len(KeyPrefix); i-- {
		rem := 0
		for j := range num {
			cur := rem<<8 | int(num[j])
			num[j] = byte(cur / 62)
			rem = cur % 62
		}
		out[i] = base62[rem]
	}
	return string(out[:])
}

// ParseKey reports whether s has the shape of a gateway key secret: KeyPrefix
// followed by exactly 43 base62 characters. It checks shape only (whether the
// key exists is a store lookup of HashKey(secret)); on success secret is s.
func ParseKey(s string) (secret string, ok bool) {
	if len(s) != KeyLen || !strings.HasPrefix(s, KeyPrefix) {
		return "", false
	}
	for i := len(KeyPrefix); i < len(s); i++ {
		if !isBase62(s[i]) {
			return "", false
		}
	}
	return s, true
}

func isBase62(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}

// HashKey returns the SHA-256 of secret, the form in which keys are stored
// and looked up. The secret needs no salt: it carries 256 random bits.
func HashKey(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// EqualHash reports whether two key hashes are equal, in time that depends
// only on their lengths. Nil and empty hashes never match anything, so an
// unset stored hash cannot be matched by an empty one.
func EqualHash(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	return subtle.ConstantTimeCompare(a, b) == 1
}

// DisplayPrefix returns the part of a secret that may be shown and stored in
// clear to help people tell keys apart: its first 14 characters
// ("sk-sluice-AbCd"). For a string of 14 characters or fewer it returns ""
// rather than echo the whole string.
func DisplayPrefix(secret string) string {
	if len(secret) <= displayLen {
		return ""
	}
	return secret[:displayLen]
}

// NewID returns prefix followed by 20 lowercase base32 characters (100 bits
// from crypto/rand), for example "key_…", "ten_…" or "team_…". IDs are not
// secrets; they name rows in logs and URLs.
func NewID(prefix string) string {
	var raw [idDigits]byte
	_, _ = rand.Read(raw[:]) // never fails in current Go; it crashes instead
	out := make([]byte, len(prefix)+idDigits)
	copy(out, prefix)
	for i, b := range raw {
		out[len(prefix)+i] = base32[b&31] // 256 % 32 == 0: unbiased
	}
	return string(out)
}

// Presented returns the credential a request carries, looked up in this
// order, the first non-empty one winning:
//
//  1. "Authorization: Bearer <token>" (the scheme is case-insensitive; any
//     other scheme, such as Basic, is skipped),
//  2. "x-api-key: <token>" (Anthropic clients),
//  3. "api-key: <token>" (Azure OpenAI clients).
//
// Surrounding spaces and tabs are trimmed; only the first value of each
// header is read. ok is false when no source yields a non-empty token.
func Presented(h http.Header) (token string, ok bool) {
	if v := h.Get("Authorization"); v != "" {
		if t, ok := bearerToken(v); ok {
			return t, true
		}
	}
	if t := trimToken(h.Get("X-Api-Key")); t != "" {
		return t, true
	}
	if t := trimToken(h.Get("Api-Key")); t != "" {
		return t, true
	}
	return "", false
}

// bearerToken returns the token of a "Bearer <token>" header value.
func bearerToken(v string) (string, bool) {
	const scheme = "bearer"
	v = trimToken(v)
	if len(v) <= len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) ||
		(v[len(scheme)] != ' ' && v[len(scheme)] != '\t') {
		return "", false
	}
	t := trimToken(v[len(scheme):])
	return t, t != ""
}

func trimToken(s string) string { return strings.Trim(s, " \t") }
