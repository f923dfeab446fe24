package usage

import (
	"math"
	"testing"
)

// parseUSDCases are shared with FuzzParseUSD as seeds.
var parseUSDCases = []struct {
	name, in string
	want     int64
	err      string
}{
	{"list price", "2.50", 2_500_000, ""},
	{"three decimals", "0.075", 75_000, ""},
	{"integer", "15", 15_000_000, ""},
	{"zero", "0", 0, ""},
	{"one micro", "0.000001", 1, ""},
	{"six decimals", "0.003625", 3_625, ""},
	{"trailing zeros beyond six", "0.1250000", 125_000, ""},
	{"leading zeros", "007.5", 7_500_000, ""},
	{"max", "9223372036854.775807", math.MaxInt64, ""},
	{"empty", "", 0, `usage: invalid USD amount "": empty`},
	{"negative", "-1", 0, `usage: invalid USD amount "-1": must not be negative`},
	{"plus sign", "+1", 0, `usage: invalid USD amount "+1": not a decimal number`},
	{"exponent", "1e3", 0, `usage: invalid USD amount "1e3": exponent not allowed`},
	{"trailing point", "1.", 0, `usage: invalid USD amount "1.": not a decimal number`},
	{"leading point", ".5", 0, `usage: invalid USD amount ".5": not a decimal number`},
	{"two points", "1.2.3", 0, `usage: invalid USD amount "1.2.3": not a decimal number`},
	{"space", " 1", 0, `usage: invalid USD amount " 1": not a decimal number`},
	{"thousands separator", "1,000", 0, `usage: invalid USD amount "1,000": not a decimal number`},
	{"underscore", "1_000", 0, `usage: invalid USD amount "1_000": not a decimal number`},
	{"dollar sign", "$2", 0, `usage: invalid USD amount "$2": not a decimal number`},
	{"below a micro", "0.0000001", 0, `usage: invalid USD amount "0.0000001": more than 6 decimal places`},
	{"overflow", "9223372036854.775808", 0, `usage: invalid USD amount "9223372036854.775808": too large`},
	{"huge", "99999999999999999999", 0, `usage: invalid USD amount "99999999999999999999": too large`},
	{"long input is cut in the message", "1234567890123456789012345678901234567890x", 0,
		`usage: invalid USD amount "1234567890123456789012345678901234567890"…: not a decimal number`},
}

func TestParseUSD(t *testing.T) {
	for _, tc := range parseUSDCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseUSD(tc.in)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("ParseUSD(%q) error = %v, want %q", tc.in, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseUSD(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestFormatUSD(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   int64
		want string
	}{
		{"zero", 0, "0.000000"},
		{"micro", 123, "0.000123"},
		{"dollars", 2_500_000, "2.500000"},
		{"mixed", 12_345_678, "12.345678"},
		{"negative", -5, "-0.000005"},
		{"negative dollars", -1_500_000, "-1.500000"},
		{"max", math.MaxInt64, "9223372036854.775807"},
		{"min", math.MinInt64, "-9223372036854.775808"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := FormatUSD(tc.in); got != tc.want {
				t.Errorf("FormatUSD(%d) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestParseDecimalExponent covers the JSON-number form ParseCustomCost
// relies on: exponents shift the point, and precision and range limits
// apply after the shift.
func TestParseDecimalExponent(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     string
		scale  int
		want   int64
		reason string
	}{
		{"negative exponent", "2e-6", 12, 2_000_000, ""},
		{"capital E plus", "2.5E+0", 6, 2_500_000, ""},
		{"fraction and exponent", "1.5e-7", 12, 150_000, ""},
		{"positive exponent", "3e2", 6, 300_000_000, ""},
		{"zero with huge exponent", "0e999999999999", 12, 0, ""},
		{"zero with tiny exponent", "0.0e-999999999999", 12, 0, ""},
		{"below resolution", "1e-13", 12, 0, "more than 12 decimal places"},
		{"huge exponent", "1e999999999999", 12, 0, "too large"},
		{"just too large", "9.3e6", 12, 0, "too large"},
		{"exponent without digits", "1e", 6, 0, "not a decimal number"},
		{"exponent sign only", "1e-", 6, 0, "not a decimal number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, reason := parseDecimal(tc.in, tc.scale, true)
			if got != tc.want || reason != tc.reason {
				t.Errorf("parseDecimal(%q, %d) = %d, %q; want %d, %q", tc.in, tc.scale, got, reason, tc.want, tc.reason)
			}
		})
	}
}
