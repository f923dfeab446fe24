package cache

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sluicehq/sluice/internal/llm"
)

// FuzzDecodeEntry feeds DecodeEntry arbitrary bytes, seeded with valid and
// corrupt encodings: it must never panic, and whatever it accepts must
// survive another encode and decode unchanged.
func FuzzDecodeEntry(f *testing.F) {
	f.Add(encodeEntry(f, richEntry()))
	f.Add(encodeEntry(f, &Entry{Response: &llm.Response{}}))
	for _, b := range corruptEntries(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEntry(b)
		if err != nil {
			if e != nil {
				t.Fatalf("DecodeEntry returned an entry with the error %v", err)
			}
			return
		}
		again, err := DecodeEntry(encodeEntry(t, e))
		if err != nil {
			t.Fatalf("re-encoded entry does not decode: %v", err)
		}
		if diff := cmp.Diff(again, e); diff != "" {
			t.Errorf("re-encoded entry changed (-got +want):\n%s", diff)
		}
	})
}

// FuzzParseKey checks that ParseKey accepts exactly what String writes.
func FuzzParseKey(f *testing.F) {
	f.Add(testKey("a").String())
	f.Add(strings.ToUpper(testKey("a").String()))
	f.Add("")
	f.Add(strings.Repeat("g", 64))
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKey(s)
		if err != nil {
			if len(s) == 64 && strings.Trim(s, "0123456789abcdef") == "" {
				t.Errorf("ParseKey(%q) refused lower-case hex: %v", s, err)
			}
			return
		}
		if got := k.String(); got != s {
			t.Errorf("ParseKey(%q) succeeded but String() = %q", s, got)
		}
	})
}
