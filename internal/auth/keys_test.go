package auth

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNewKeyShape(t *testing.T) {
	seen := make(map[string]bool, 10000)
	for range 10000 {
		k, err := NewKey()
		if err != nil {
			t.Fatalf("NewKey: %v", err)
		}
		if len(k) != 53 {
			t.Fatalf("NewKey length = %d, want 53", len(k))
		}
		if _, ok := ParseKey(k); !ok {
			t.Fatalf("ParseKey(NewKey()) = !ok for %q", k)
		}
		if seen[k] {
			t.Fatalf("NewKey repeated a key after %d keys", len(seen))
		}
		seen[k] = true
	}
}

// TestEncodeKeyMatchesMathBig guards the fixed-width base62 encoding,
// leading zeros included, against math/big's.
func TestEncodeKeyMatchesMathBig(t *testing.T) {
	var zero, ones, low [keyBytes]byte
	for i := range ones {
		ones[i] = 0xff
	}
	low[keyBytes-1] = 61
	cases := map[string][keyBytes]byte{"zero": zero, "max": ones, "61": low}
	for i := range 200 {
		var r [keyBytes]byte
		rand.Read(r[:])
		if i%3 == 0 {
			r[0], r[1] = 0, 0 // force leading zero digits
		}
		cases["random"+string(rune('a'+i%26))+big.NewInt(int64(i)).String()] = r
	}
	for name, raw := range cases {
		want := new(big.Int).SetBytes(raw[:]).Text(62)
		want = KeyPrefix + strings.Repeat("0", keyDigits-len(want)) + want
		if got := encodeKey(raw); got != want {
			t.Errorf("%s: encodeKey = %q, want %q", name, got, want)
		}
	}
}

var parseKeyCases = []struct {
	name string
	in   string
	ok   bool
}{
	{"good", KeyPrefix + strings.Repeat("aZ9", 14) + "x", true},
	{"all zeros", KeyPrefix + strings.Repeat("0", 43), true},
	{"empty", "", false},
	{"prefix only", KeyPrefix, false},
	{"one short", KeyPrefix + strings.Repeat("a", 42), false},
	{"one long", KeyPrefix + strings.Repeat("a", 44), false},
	{"wrong prefix", "sk-sluicy-" + strings.Repeat("a", 43), false},
	{"upper prefix", "SK-SLUICE-" + strings.Repeat("a", 43), false},
	{"dash in body", KeyPrefix + strings.Repeat("a", 42) + "-", false},
	{"underscore in body", KeyPrefix + "_" + strings.Repeat("a", 42), false},
	{"space in body", KeyPrefix + strings.Repeat("a", 21) + " " + strings.Repeat("a", 21), false},
	{"non-ascii", KeyPrefix + strings.Repeat("a", 41) + "é", false},
	{"openai key", "sk-proj-" + strings.Repeat("a", 45), false},
}

func TestParseKey(t *testing.T) {
	for _, tc := range parseKeyCases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseKey(tc.in)
			if ok != tc.ok {
				t.Fatalf("ParseKey(%q) ok = %v, want %v", tc.in, ok, tc.ok)
			}
			if ok && got != tc.in {
				t.Errorf("ParseKey secret = %q, want %q", got, tc.in)
			}
			if !ok && got != "" {
				t.Errorf("ParseKey secret = %q on failure, want empty", got)
			}
		})
	}
}

func TestHashKey(t *testing.T) {
	// SHA-256("abc") from FIPS 180-2.
	want, _ := hex.DecodeString("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
	if got := HashKey("abc"); !bytes.Equal(got, want) {
		t.Errorf("HashKey(abc) = %x, want %x", got, want)
	}
	k, _ := NewKey()
	sum := sha256.Sum256([]byte(k))
	if !EqualHash(HashKey(k), sum[:]) {
		t.Error("EqualHash(HashKey(k), sha256(k)) = false")
	}
}

func TestEqualHash(t *testing.T) {
	a, b := HashKey("a"), HashKey("b")
	cases := []struct {
		name string
		x, y []byte
		want bool
	}{
		{"same", a, HashKey("a"), true},
		{"different", a, b, false},
		{"prefix", a, a[:16], false},
		{"both nil", nil, nil, false},
		{"both empty", []byte{}, []byte{}, false},
		{"one nil", a, nil, false},
	}
	for _, tc := range cases {
		if got := EqualHash(tc.x, tc.y); got != tc.want {
			t.Errorf("%s: EqualHash = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDisplayPrefix(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"key", KeyPrefix + "AbCd" + strings.Repeat("x", 39), "sk-sluice-AbCd"},
		{"fifteen", "abcdefghijklmno", "abcdefghijklmn"},
		{"fourteen", "abcdefghijklmn", ""},
		{"short", "secret", ""},
		{"empty", "", ""},
	}
	for _, tc := range cases {
		if got := DisplayPrefix(tc.in); got != tc.want {
			t.Errorf("%s: DisplayPrefix(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for _, prefix := range []string{"key_", "ten_", "team_", ""} {
		for range 1000 {
			id := NewID(prefix)
			if !strings.HasPrefix(id, prefix) || len(id) != len(prefix)+20 {
				t.Fatalf("NewID(%q) = %q: want prefix plus 20 characters", prefix, id)
			}
			for _, c := range id[len(prefix):] {
				if !strings.ContainsRune(base32, c) {
					t.Fatalf("NewID(%q) = %q: %q is not lowercase base32", prefix, id, c)
				}
			}
			if seen[id] {
				t.Fatalf("NewID repeated %q", id)
			}
			seen[id] = true
		}
	}
}

var presentedCases = []struct {
	name   string
	header map[string]string
	want   string
	ok     bool
}{
	{"bearer", map[string]string{"Authorization": "Bearer tok"}, "tok", true},
	{"bearer lowercase scheme", map[string]string{"Authorization": "bearer tok"}, "tok", true},
	{"bearer shouting scheme", map[string]string{"Authorization": "BEARER tok"}, "tok", true},
	{"bearer tab and spaces", map[string]string{"Authorization": " Bearer\t  tok  "}, "tok", true},
	{"bearer wins over x-api-key", map[string]string{"Authorization": "Bearer a", "X-Api-Key": "b", "Api-Key": "c"}, "a", true},
	{"x-api-key wins over api-key", map[string]string{"X-Api-Key": "b", "Api-Key": "c"}, "b", true},
	{"api-key alone", map[string]string{"Api-Key": " c "}, "c", true},
	{"basic falls through", map[string]string{"Authorization": "Basic dXNlcjpwYXNz", "X-Api-Key": "b"}, "b", true},
	{"empty bearer falls through", map[string]string{"Authorization": "Bearer  ", "Api-Key": "c"}, "c", true},
	{"bearer without space", map[string]string{"Authorization": "Bearertok"}, "", false},
	{"scheme only", map[string]string{"Authorization": "Bearer"}, "", false},
	{"basic only", map[string]string{"Authorization": "Basic dXNlcjpwYXNz"}, "", false},
	{"blank x-api-key", map[string]string{"X-Api-Key": "   "}, "", false},
	{"none", map[string]string{}, "", false},
}

func TestPresented(t *testing.T) {
	for _, tc := range presentedCases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.header {
				h.Set(k, v)
			}
			got, ok := Presented(h)
			if diff := cmp.Diff(struct {
				Token string
				OK    bool
			}{got, ok}, struct {
				Token string
				OK    bool
			}{tc.want, tc.ok}); diff != "" {
				t.Errorf("Presented (-got +want):\n%s", diff)
			}
		})
	}
}
