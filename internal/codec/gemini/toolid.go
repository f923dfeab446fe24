package gemini

import (
	"encoding/binary"
	"encoding/hex"
	"hash/fnv"
	"strconv"
	"strings"
)

// Tool-call IDs.
//
// Canonical tool calls need IDs, and Gemini gives none (or, on some models,
// an optional functionCall.id). The codec makes one up deterministically:
//
//	call_<16 hex digits>   a 64-bit hash of (responseId, candidate index, call index)
//
// so the same answer gets the same IDs whether it was streamed or not, and
// calls in different answers of one conversation never share an ID. A
// Gemini-issued functionCall.id is used as it is instead.
//
// Gemini 2.5 and 3 also attach a thoughtSignature to function calls, and
// Gemini 3 rejects the next request (HTTP 400) unless the signature comes
// back on the same functionCall part. Clients speaking OpenAI's or
// Anthropic's format have nowhere to keep it, but they do echo tool-call IDs
// verbatim, so the signature travels inside the ID:
//
//	<id>__thought__<signature in unpadded base64url>
//
// The URL-safe alphabet keeps the ID within [A-Za-z0-9_-], which Anthropic
// requires of tool_use IDs. EncodeGenerateRequest splits the signature off
// again and converts it back to standard base64.

// sigSep separates a tool-call ID from the thought signature it carries.
const sigSep = "__thought__"

// skipSignature is the value Google documents for function calls whose
// signature is unknown (history written by hand or by another model): it
// tells Gemini 3 not to validate the signature.
const skipSignature = "skip_thought_signature_validator"

// makeCallID returns the canonical ID for the callIndex-th function call of
// candidate cand in the answer responseID. geminiID is functionCall.id (may
// be empty) and sig the part's thoughtSignature (may be empty).
func makeCallID(responseID string, cand, callIndex int, geminiID, sig string) string {
	var b strings.Builder
	if geminiID != "" {
		b.Grow(len(geminiID) + len(sigSep) + len(sig))
		b.WriteString(geminiID)
	} else {
		h := fnv.New64a()
		var buf [64]byte
		k := append(buf[:0], responseID...)
		k = append(k, '/')
		k = strconv.AppendInt(k, int64(cand), 10)
		k = append(k, '/')
		k = strconv.AppendInt(k, int64(callIndex), 10)
		h.Write(k)
		var sum [8]byte
		binary.BigEndian.PutUint64(sum[:], mix(h.Sum64()))
		b.Grow(5 + 16 + len(sigSep) + len(sig))
		b.WriteString("call_")
		var hx [16]byte
		hex.Encode(hx[:], sum[:])
		b.Write(hx[:])
	}
	if sig != "" {
		b.WriteString(sigSep)
		writeURLBase64(&b, sig)
	}
	return b.String()
}

// mix is the splitmix64 finalizer: FNV alone leaves IDs of neighbouring
// calls looking nearly alike, which confuses people reading logs.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// splitCallID returns the signature carried by a tool-call ID in standard
// base64, or "" when the ID carries none (or a malformed one).
func splitCallID(id string) (sig string) {
	i := strings.Index(id, sigSep)
	if i < 0 {
		return ""
	}
	enc := id[i+len(sigSep):]
	if enc == "" {
		return ""
	}
	b := make([]byte, 0, len(enc)+3)
	for j := 0; j < len(enc); j++ {
		c := enc[j]
		switch {
		case c == '-':
			c = '+'
		case c == '_':
			c = '/'
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		default:
			return ""
		}
		b = append(b, c)
	}
	switch len(b) % 4 {
	case 1:
		return "" // no base64 text has this length
	case 2:
		b = append(b, '=', '=')
	case 3:
		b = append(b, '=')
	}
	return string(b)
}

// writeURLBase64 writes the standard-base64 sig in the unpadded URL-safe
// alphabet. Characters outside base64 are written as they are: the
// signature is opaque and Gemini only needs it back unchanged, which
// splitCallID then refuses to guess at.
func writeURLBase64(b *strings.Builder, sig string) {
	for i := 0; i < len(sig); i++ {
		switch c := sig[i]; c {
		case '+':
			b.WriteByte('-')
		case '/':
			b.WriteByte('_')
		case '=':
		default:
			b.WriteByte(c)
		}
	}
}
