package usage

import (
	"fmt"
	"math"
	"strconv"
)

// microsPerDollar is the unit of every amount in this package.
const microsPerDollar = 1_000_000

// ParseUSD converts decimal dollars ("2.50", "0.075", "15") to micro-dollars,
// exactly. The text must be digits with an optional fraction: no sign, no
// exponent, no spaces or separators. Fraction digits beyond the sixth must be
// zeros ("0.1250000" is fine, "0.0000001" is not representable and an
// error), and the amount must fit in an int64 of micro-dollars.
func ParseUSD(s string) (int64, error) {
	v, reason := parseDecimal(s, 6, false)
	if reason != "" {
		return 0, fmt.Errorf("usage: invalid USD amount %s: %s", quoteShort(s), reason)
	}
	return v, nil
}

// FormatUSD formats micro-dollars as decimal dollars with six fraction
// digits: 123 → "0.000123", 2_500_000 → "2.500000", -5 → "-0.000005".
func FormatUSD(micros int64) string {
	var buf [24]byte
	b := buf[:0]
	u := uint64(micros)
	if micros < 0 {
		b = append(b, '-')
		u = -u // two's complement: correct for math.MinInt64 too
	}
	b = strconv.AppendUint(b, u/microsPerDollar, 10)
	frac := u % microsPerDollar
	b = append(b, '.')
	for d := uint64(100_000); d > 0; d /= 10 {
		b = append(b, byte('0'+frac/d%10))
	}
	return string(b)
}

// Reasons parseDecimal gives, shared by ParseUSD and ParseCustomCost.
const (
	reasonEmpty    = "empty"
	reasonNegative = "must not be negative"
	reasonSyntax   = "not a decimal number"
	reasonExponent = "exponent not allowed"
	reasonTooLarge = "too large"
)

// parseDecimal parses a non-negative decimal number (with an exponent when
// allowExp, as JSON numbers have) and returns it multiplied by 10^scale as
// an exact int64. On failure it returns a short reason fit for an error
// message. Digits that would fall below 10^-scale must be zeros.
func parseDecimal(s string, scale int, allowExp bool) (int64, string) {
	if s == "" {
		return 0, reasonEmpty
	}
	if s[0] == '-' {
		return 0, reasonNegative
	}
	i := 0
	intStart := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intEnd := i
	if intEnd == intStart {
		return 0, reasonSyntax
	}
	fracStart, fracEnd := i, i
	if i < len(s) && s[i] == '.' {
		i++
		fracStart = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		fracEnd = i
		if fracEnd == fracStart {
			return 0, reasonSyntax
		}
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		if !allowExp {
			return 0, reasonExponent
		}
		i++
		neg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			neg = s[i] == '-'
			i++
		}
		expStart := i
		for i < len(s) && isDigit(s[i]) {
			if exp < 1_000_000 { // beyond this the value is 0 or too large anyway
				exp = exp*10 + int(s[i]-'0')
			}
			i++
		}
		if i == expStart {
			return 0, reasonSyntax
		}
		if neg {
			exp = -exp
		}
	}
	if i != len(s) {
		return 0, reasonSyntax
	}

	// The digits intPart+fracPart, with the decimal point moved right by
	// exp+scale, must form an integer: digits before the point accumulate,
	// digits after it must be zeros.
	nInt, nFrac := intEnd-intStart, fracEnd-fracStart
	point := nInt + exp + scale
	var v uint64
	for k := 0; k < nInt+nFrac; k++ {
		var c byte
		if k < nInt {
			c = s[intStart+k]
		} else {
			c = s[fracStart+k-nInt]
		}
		d := uint64(c - '0')
		if k >= point {
			if d != 0 {
				return 0, fmt.Sprintf("more than %d decimal places", scale)
			}
			continue
		}
		if v > (math.MaxInt64-d)/10 {
			return 0, reasonTooLarge
		}
		v = v*10 + d
	}
	for k := nInt + nFrac; k < point && v != 0; k++ {
		if v > math.MaxInt64/10 {
			return 0, reasonTooLarge
		}
		v *= 10
	}
	return int64(v), ""
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// quoteShort quotes s for an error message, cut to 40 bytes so that a long
// or hostile input does not flood logs or responses.
func quoteShort(s string) string {
	if len(s) > 40 {
		return strconv.Quote(s[:40]) + "…"
	}
	return strconv.Quote(s)
}
