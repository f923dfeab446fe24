package store

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
)

// A cursor names the last record of a page: its time in microseconds
// (8 bytes, big-endian) followed by its ID, base64url-encoded without
// padding. It is opaque to clients; only decodeCursor reads it.
var cursorEncoding = base64.RawURLEncoding.Strict()

// encodeCursor returns the cursor for the record (timeUS, id).
func encodeCursor(timeUS int64, id string) string {
	b := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(b, uint64(timeUS))
	return cursorEncoding.EncodeToString(append(b, id...))
}

// decodeCursor parses a cursor made by encodeCursor. Anything else is an
// error wrapping ErrBadCursor. For every accepted c,
// encodeCursor(decodeCursor(c)) == c.
func decodeCursor(c string) (timeUS int64, id string, err error) {
	if len(c) > cursorEncoding.EncodedLen(8+maxIDLen) {
		return 0, "", fmt.Errorf("%w: too long", ErrBadCursor)
	}
	// The decoder skips CR and LF even when strict; refuse them so that
	// one position has exactly one cursor.
	b, err := cursorEncoding.DecodeString(c)
	if err != nil || strings.ContainsAny(c, "\r\n") {
		return 0, "", fmt.Errorf("%w: not base64url", ErrBadCursor)
	}
	if len(b) < 9 {
		return 0, "", fmt.Errorf("%w: too short", ErrBadCursor)
	}
	id = string(b[8:])
	if checkID(id) != nil {
		return 0, "", fmt.Errorf("%w: bad record id", ErrBadCursor)
	}
	return int64(binary.BigEndian.Uint64(b)), id, nil
}
