package store

import (
	"encoding/base64"
	"errors"
	"math"
	"strings"
	"testing"
)

// badCursors are cursors no page could have returned.
var badCursors = []string{
	"!",                                     // not base64url
	rawCursor(1) + "=",                      // padded
	rawCursor(0, 0, 0, 0, 0, 0, 0, 1),       // a time but no ID
	rawCursor(0, 0, 0, 0, 0, 0, 0),          // not even a time
	rawCursor(0, 0, 0, 0, 0, 0, 0, 1, 0xff), // ID not UTF-8
	rawCursor(0, 0, 0, 0, 0, 0, 0, 1, 0),    // ID is NUL
	encodeCursor(1, "abc")[:5] + "\n" + encodeCursor(1, "abc")[5:], // newline, which the decoder would skip
	encodeCursor(1, "a") + "B",                                     // a dangling character
	encodeCursor(1, "ab")[:13] + "B",                               // non-zero trailing bits
	strings.Repeat("A", 2000),                                      // too long
}

// rawCursor encodes b as a cursor would be, without checking it.
func rawCursor(b ...byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func TestCursorRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name   string
		timeUS int64
		id     string
	}{
		{"typical", 1741964966535897, "req_01J8ZK3M"},
		{"zero time", 0, "a"},
		{"negative time", -62135596800000000, "a"},
		{"max time", math.MaxInt64, "z"},
		{"unicode id", 1, "日本-🚀"},
		{"longest id", 1, strings.Repeat("x", maxIDLen)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := encodeCursor(tc.timeUS, tc.id)
			gotTime, gotID, err := decodeCursor(c)
			if err != nil {
				t.Fatalf("decodeCursor(%q): %v", c, err)
			}
			if gotTime != tc.timeUS || gotID != tc.id {
				t.Errorf("decodeCursor(encodeCursor(%d, %q)) = %d, %q", tc.timeUS, tc.id, gotTime, gotID)
			}
			if strings.ContainsAny(c, "+/=") {
				t.Errorf("cursor %q is not unpadded base64url", c)
			}
		})
	}
}

func TestDecodeCursorRejects(t *testing.T) {
	for _, c := range badCursors {
		if _, _, err := decodeCursor(c); !errors.Is(err, ErrBadCursor) {
			t.Errorf("decodeCursor(%q) = %v, want ErrBadCursor", c, err)
		}
	}
}

// FuzzDecodeCursor checks that decodeCursor never panics and that every
// cursor it accepts is the one encodeCursor makes for what it decoded.
func FuzzDecodeCursor(f *testing.F) {
	for _, c := range badCursors {
		f.Add(c)
	}
	f.Add(encodeCursor(1741964966535897, "req_01J8ZK3M"))
	f.Add(encodeCursor(-1, "日本"))
	f.Fuzz(func(t *testing.T, c string) {
		tm, id, err := decodeCursor(c)
		if err != nil {
			if !errors.Is(err, ErrBadCursor) {
				t.Fatalf("decodeCursor(%q) = %v, not wrapping ErrBadCursor", c, err)
			}
			return
		}
		if again := encodeCursor(tm, id); again != c {
			t.Fatalf("decodeCursor(%q) = %d, %q, which encodes to %q", c, tm, id, again)
		}
	})
}
