package usage

import (
	"errors"
	"fmt"

	"github.com/sluicehq/sluice/internal/jsonw"
)

// CustomCostHeader is the request header that sets a request's price.
const CustomCostHeader = "x-sluice-custom-cost"

// Bounds on custom prices: $0.01 a token ($10,000 per million, far above
// any list price) and $100 a request.
const (
	maxTokenRate  = 10_000 * 1_000_000 // micro-dollars per million tokens
	maxRequestFee = 100 * 1_000_000    // micro-dollars
)

// maxCustomCost is the longest header value ParseCustomCost accepts.
const maxCustomCost = 512

// ErrInvalidCustomCost wraps every ParseCustomCost error. The full message,
// "invalid x-sluice-custom-cost header: <reason>", is fit to show the client.
var ErrInvalidCustomCost = errors.New("invalid " + CustomCostHeader + " header")

// customCostField is one key the header may hold. Token rates are dollars
// per token, per_request dollars per call; scale converts each to Price
// units (micro-dollars per million tokens, micro-dollars).
type customCostField struct {
	key      string
	scale    int
	required bool
	// max bounds the value in Price units, and limit says it in dollars.
	// The header is the client's word on its own cost: the bounds keep
	// one request from saturating the accounting.
	max   int64
	limit string
}

// customCostFields lists the keys in the order their values fill Price.
var customCostFields = [...]customCostField{
	{"per_token_in", 12, true, maxTokenRate, "0.01"},
	{"per_token_out", 12, true, maxTokenRate, "0.01"},
	{"per_token_cached_in", 12, false, maxTokenRate, "0.01"},
	{"per_request", 6, false, maxRequestFee, "100"},
}

// ParseCustomCost parses the x-sluice-custom-cost header, a JSON object such
// as {"per_token_in":0.000002,"per_token_out":0.000006} giving dollars per
// token ("per_token_in", "per_token_out", both required;
// "per_token_cached_in" optional) and dollars per call ("per_request",
// optional). Values must be JSON numbers (exponents allowed, strings and
// null not) and are decoded exactly: a rate finer than 10^-12 dollars per
// token or a fee finer than a micro-dollar is rejected rather than rounded.
// Unknown or repeated keys, negative values, token rates above $0.01, fees
// above $100, and headers over 512 bytes are errors wrapping
// ErrInvalidCustomCost. CacheWrite is left zero (cache writes cost the input
// rate).
func ParseCustomCost(header string) (Price, error) {
	if len(header) > maxCustomCost {
		return Price{}, customCostError("longer than %d bytes", maxCustomCost)
	}
	b := []byte(header)
	if !jsonw.Valid(b) || jsonw.KindOf(b) != "an object" {
		return Price{}, customCostError(`must be a JSON object such as {"per_token_in":0.000002,"per_token_out":0.000006}`)
	}
	var vals [len(customCostFields)]int64
	var seen [len(customCostFields)]bool
	err := jsonw.EachMember(b, func(rawKey, value []byte) error {
		key := jsonw.Key(rawKey)
		i := fieldIndex(key)
		if i < 0 {
			return customCostError("unknown key %s", quoteShort(key))
		}
		f := customCostFields[i]
		if seen[i] {
			return customCostError("%s is given twice", f.key)
		}
		seen[i] = true
		if kind := jsonw.KindOf(value); kind != "a number" {
			return customCostError("%s must be a number, not %s", f.key, kind)
		}
		n, reason := parseDecimal(string(value), f.scale, true)
		if reason != "" {
			return customCostError("%s: %s", f.key, reason)
		}
		if n > f.max {
			return customCostError("%s is above the limit of %s dollars", f.key, f.limit)
		}
		vals[i] = n
		return nil
	})
	if err != nil {
		if !errors.Is(err, ErrInvalidCustomCost) { // jsonw.ErrSyntax; Valid makes it unreachable
			return Price{}, customCostError("malformed JSON")
		}
		return Price{}, err
	}
	for i, f := range customCostFields {
		if f.required && !seen[i] {
			return Price{}, customCostError("%s is required", f.key)
		}
	}
	return Price{Input: vals[0], Output: vals[1], CachedInput: vals[2], PerRequest: vals[3]}, nil
}

// fieldIndex returns key's index in customCostFields, or -1.
func fieldIndex(key string) int {
	for i := range customCostFields {
		if customCostFields[i].key == key {
			return i
		}
	}
	return -1
}

func customCostError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidCustomCost}, args...)...)
}
