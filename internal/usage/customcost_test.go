package usage

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// customCostCases are shared with FuzzParseCustomCost as seeds.
var customCostCases = []struct {
	name, in string
	want     Price
	err      string // the message after "invalid x-sluice-custom-cost header: "
}{
	{"documented example", `{"per_token_in":0.000002,"per_token_out":0.000006}`,
		Price{Input: 2_000_000, Output: 6_000_000}, ""},
	{"exponents", `{"per_token_in":2e-6,"per_token_out":6E-6}`,
		Price{Input: 2_000_000, Output: 6_000_000}, ""},
	{"all keys", `{"per_token_in":0.0000025,"per_token_out":0.00001,"per_token_cached_in":0.00000125,"per_request":0.01}`,
		Price{Input: 2_500_000, Output: 10_000_000, CachedInput: 1_250_000, PerRequest: 10_000}, ""},
	{"finest rate", `{"per_token_in":1e-12,"per_token_out":0.000000000001}`, Price{Input: 1, Output: 1}, ""},
	{"free", `{"per_token_in":0,"per_token_out":0}`, Price{}, ""},
	{"whitespace", " {\n \"per_token_out\" : 0.001 , \"per_token_in\" : 0.0005 } ", Price{Input: 500_000_000, Output: 1_000_000_000}, ""},
	{"at the limits", `{"per_token_in":0.01,"per_token_out":0.01,"per_token_cached_in":0.01,"per_request":100}`,
		Price{Input: 10_000_000_000, Output: 10_000_000_000, CachedInput: 10_000_000_000, PerRequest: 100_000_000}, ""},
	{"token rate above the limit", `{"per_token_in":0.0100001,"per_token_out":0}`, Price{}, `per_token_in is above the limit of 0.01 dollars`},
	{"fee above the limit", `{"per_token_in":0,"per_token_out":0,"per_request":100.000001}`, Price{}, `per_request is above the limit of 100 dollars`},
	{"escaped key", `{"per_token_\u0069n":1e-6,"per_token_out":1e-6}`, Price{Input: 1_000_000, Output: 1_000_000}, ""},
	{"empty", ``, Price{}, `must be a JSON object such as {"per_token_in":0.000002,"per_token_out":0.000006}`},
	{"array", `[1,2]`, Price{}, `must be a JSON object such as {"per_token_in":0.000002,"per_token_out":0.000006}`},
	{"malformed", `{"per_token_in":1,`, Price{}, `must be a JSON object such as {"per_token_in":0.000002,"per_token_out":0.000006}`},
	{"trailing data", `{"per_token_in":1,"per_token_out":1} x`, Price{}, `must be a JSON object such as {"per_token_in":0.000002,"per_token_out":0.000006}`},
	{"unknown key", `{"per_token_in":1e-6,"per_token_out":1e-6,"per_token_reasoning":1e-6}`, Price{}, `unknown key "per_token_reasoning"`},
	{"repeated key", `{"per_token_in":1e-6,"per_token_in":2e-6,"per_token_out":1e-6}`, Price{}, `per_token_in is given twice`},
	{"missing output", `{"per_token_in":1e-6}`, Price{}, `per_token_out is required`},
	{"missing input", `{}`, Price{}, `per_token_in is required`},
	{"string value", `{"per_token_in":"0.000002","per_token_out":1e-6}`, Price{}, `per_token_in must be a number, not a string`},
	{"null value", `{"per_token_in":1e-6,"per_token_out":null}`, Price{}, `per_token_out must be a number, not null`},
	{"object value", `{"per_token_in":{},"per_token_out":1}`, Price{}, `per_token_in must be a number, not an object`},
	{"negative", `{"per_token_in":-0.000002,"per_token_out":1e-6}`, Price{}, `per_token_in: must not be negative`},
	{"negative zero", `{"per_token_in":1e-6,"per_token_out":-0}`, Price{}, `per_token_out: must not be negative`},
	{"too precise", `{"per_token_in":1e-13,"per_token_out":1e-6}`, Price{}, `per_token_in: more than 12 decimal places`},
	{"fee too precise", `{"per_token_in":1e-6,"per_token_out":1e-6,"per_request":0.0000001}`, Price{}, `per_request: more than 6 decimal places`},
	{"too large", `{"per_token_in":1e-6,"per_token_out":10000000}`, Price{}, `per_token_out: too large`},
	{"too long", `{"per_token_in":1e-6,"per_token_out":1e-6` + strings.Repeat(" ", 512) + `}`, Price{}, `longer than 512 bytes`},
}

func TestParseCustomCost(t *testing.T) {
	const prefix = "invalid x-sluice-custom-cost header: "
	for _, tc := range customCostCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCustomCost(tc.in)
			if tc.err != "" {
				if err == nil {
					t.Fatalf("ParseCustomCost(%q) = %+v, want error %q", tc.in, got, tc.err)
				}
				if !errors.Is(err, ErrInvalidCustomCost) {
					t.Errorf("error %v does not wrap ErrInvalidCustomCost", err)
				}
				if diff := cmp.Diff(err.Error(), prefix+tc.err); diff != "" {
					t.Errorf("error (-got +want):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCustomCost(%q): %v", tc.in, err)
			}
			if diff := cmp.Diff(got, tc.want); diff != "" {
				t.Errorf("ParseCustomCost(%q) (-got +want):\n%s", tc.in, diff)
			}
		})
	}
}
