package admin

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/jsonw"
)

// This file reads single parameter values: times, status classes, bucket
// durations and metadata values.

// ceilDiv is ⌈a/b⌉ for a ≥ 0, b > 0.
func ceilDiv(a, b time.Duration) time.Duration { return a/b + min(a%b, 1) }

// parseClass reads "2xx", "4xx" or "5xx" (x in either case).
func parseClass(v string) (int, bool) {
	if len(v) != 3 || (v[1] != 'x' && v[1] != 'X') || (v[2] != 'x' && v[2] != 'X') {
		return 0, false
	}
	switch v[0] {
	case '2', '4', '5':
		return int(v[0] - '0'), true
	}
	return 0, false
}

// parseTime reads an RFC 3339 time or whole unix seconds, as UTC. A space
// where the offset's '+' belongs is read as '+': an unescaped '+' in a
// query string arrives as a space.
func parseTime(v string) (time.Time, bool) {
	if isDigits(v) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n > maxUnix {
			return time.Time{}, false
		}
		return time.Unix(n, 0).UTC(), true
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil && strings.Count(v, " ") == 1 {
		t, err = time.Parse(time.RFC3339Nano, strings.Replace(v, " ", "+", 1))
	}
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// parseBucket reads a usage step: a Go duration ("5m", "1h") or whole
// seconds ("3600"), at least a minute and a whole number of seconds.
func parseBucket(v string) (time.Duration, error) {
	var d time.Duration
	if isDigits(v) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n > int64(100*365*24*time.Hour/time.Second) {
			return 0, fmt.Errorf("want a duration (1h, 15m) or seconds, got %s", short(v))
		}
		d = time.Duration(n) * time.Second
	} else {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, fmt.Errorf("want a duration (1h, 15m) or seconds, got %s", short(v))
		}
	}
	if d < minBucket {
		return 0, fmt.Errorf("the smallest bucket is %s, got %s", minBucket, short(v))
	}
	if d%time.Second != 0 {
		return 0, fmt.Errorf("want a whole number of seconds, got %s", short(v))
	}
	return d, nil
}

// metadataText is the JSON text form a metadata.<k> filter value compares
// with (see store.Record.Metadata): true, false and JSON numbers stand for
// themselves, a quoted JSON string for that string (to match "42" the
// string, not 42 the number), and anything else is a bare string. Strings
// are written the way jsonw writes them, the form the gateway stores.
func metadataText(v string) string {
	switch {
	case v == "true" || v == "false":
		return v
	case isJSONNumber(v):
		return v
	case len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"':
		if s, err := jsonw.Unquote([]byte(v)); err == nil && utf8.ValidString(s) {
			return string(jsonw.AppendString(nil, s))
		}
	}
	return string(jsonw.AppendString(nil, v))
}

// isJSONNumber reports whether v is exactly one JSON number.
func isJSONNumber(v string) bool {
	if v == "" || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) || v[len(v)-1] < '0' || v[len(v)-1] > '9' {
		return false
	}
	return jsonw.Valid([]byte(v))
}

func isDigits(v string) bool {
	if v == "" || len(v) > 18 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// short quotes v for an error message, cut to 64 bytes so a huge parameter
// is not echoed whole.
func short(v string) string {
	if len(v) > 64 {
		cut := 64
		for cut > 0 && !utf8.RuneStart(v[cut]) {
			cut--
		}
		return strconv.Quote(v[:cut]) + "…"
	}
	return strconv.Quote(v)
}

// maxUSD bounds a money amount in whole dollars, far inside int64 micros.
const maxUSD = 1_000_000_000_000

// parseUSD reads digits, optionally followed by '.' and 1 to 6 digits, as
// micro-dollars; ok is false for anything else or an amount ≥ maxUSD.
func parseUSD(s string) (micros int64, ok bool) {
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || len(whole) > 13 || !allDigits(whole) || dot && (frac == "" || len(frac) > 6 || !allDigits(frac)) {
		return 0, false
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w >= maxUSD {
		return 0, false
	}
	micros = w * 1_000_000
	scale := int64(100_000)
	for i := 0; i < len(frac); i++ {
		micros += int64(frac[i]-'0') * scale
		scale /= 10
	}
	return micros, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
