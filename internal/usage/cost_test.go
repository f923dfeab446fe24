package usage

import (
	"math"
	"testing"

	"github.com/sluicehq/sluice/internal/llm"
)

func TestCost(t *testing.T) {
	gpt4o := Price{Input: 2_500_000, Output: 10_000_000, CachedInput: 1_250_000}
	sonnet := Price{Input: 3_000_000, Output: 15_000_000, CachedInput: 300_000, CacheWrite: 3_750_000}
	for _, tc := range []struct {
		name  string
		price Price
		usage llm.Usage
		want  int64
	}{
		{"nothing", gpt4o, llm.Usage{}, 0},
		{"openai uncached", gpt4o, llm.Usage{InputTokens: 1000, OutputTokens: 100}, 2_500 + 1_000},
		// 6000×2.50 + 4000×1.25 + 500×10.00 per 1M = $0.025
		{"openai cache hit", gpt4o, llm.Usage{InputTokens: 10_000, CachedInputTokens: 4_000, OutputTokens: 500}, 25_000},
		// 2000×3.00 + 10000×0.30 + 5000×3.75 + 1000×15.00 per 1M = $0.04275
		{"anthropic cache read and write", sonnet, llm.Usage{InputTokens: 17_000, CachedInputTokens: 10_000, CacheWriteTokens: 5_000, OutputTokens: 1_000}, 42_750},
		{"zero cache rates fall back to input", Price{Input: 1_000_000, Output: 2_000_000},
			llm.Usage{InputTokens: 1000, CachedInputTokens: 300, CacheWriteTokens: 200}, 1_000},
		{"cache tokens beyond input leave no uncached", Price{Input: 1_000_000, CachedInput: 100_000, CacheWrite: 2_000_000},
			llm.Usage{InputTokens: 100, CachedInputTokens: 80, CacheWriteTokens: 50}, 8 + 100},
		{"reasoning is part of output", Price{Output: 1_000_000}, llm.Usage{OutputTokens: 700, ReasoningTokens: 500}, 700},
		{"per request fee", Price{Input: 1_000_000, PerRequest: 5_000}, llm.Usage{InputTokens: 1}, 1 + 5_000},
		{"fee alone", Price{PerRequest: 7}, llm.Usage{}, 7},
		{"half rounds up", Price{Input: 1}, llm.Usage{InputTokens: 500_000}, 1},
		{"below half rounds down", Price{Input: 1}, llm.Usage{InputTokens: 499_999}, 0},
		{"rounding happens once", Price{Input: 1, Output: 1}, llm.Usage{InputTokens: 400_000, OutputTokens: 400_000}, 1},
		{"negative tokens count zero", gpt4o, llm.Usage{InputTokens: -5, OutputTokens: -1}, 0},
		{"negative prices count zero", Price{Input: -1_000_000, Output: -1, PerRequest: -9}, llm.Usage{InputTokens: 1000, OutputTokens: 1000}, 0},
		// 10^12 tokens × $1000/1M: the product 10^21 needs more than 64 bits.
		{"beyond 64-bit products", Price{Input: 1_000_000_000}, llm.Usage{InputTokens: 1_000_000_000_000}, 1_000_000_000_000_000},
		{"overflow saturates", Price{Input: math.MaxInt64, Output: math.MaxInt64}, llm.Usage{InputTokens: math.MaxInt, OutputTokens: math.MaxInt}, math.MaxInt64},
		{"fee overflow saturates", Price{Input: math.MaxInt64, PerRequest: math.MaxInt64}, llm.Usage{InputTokens: 2_000_000}, math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Cost(tc.price, tc.usage); got != tc.want {
				t.Errorf("Cost = %d (%s), want %d (%s)", got, FormatUSD(got), tc.want, FormatUSD(tc.want))
			}
		})
	}
}

func TestMulDivRound(t *testing.T) {
	for _, tc := range []struct {
		name    string
		a, b, d uint64
		want    uint64
	}{
		{"exact", 6, 7, 2, 21},
		{"half up", 1, 3, 2, 2},
		{"below half", 1, 1, 3, 0},
		{"wide product", math.MaxUint64, 2, 4, math.MaxUint64/2 + 1},
		{"saturates", math.MaxUint64, math.MaxUint64, 1, math.MaxUint64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mulDivRound(tc.a, tc.b, tc.d); got != tc.want {
				t.Errorf("mulDivRound(%d, %d, %d) = %d, want %d", tc.a, tc.b, tc.d, got, tc.want)
			}
		})
	}
}

func TestCostDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	p := Price{Input: 3_000_000, Output: 15_000_000, CachedInput: 300_000, CacheWrite: 3_750_000}
	u := llm.Usage{InputTokens: 17_000, CachedInputTokens: 10_000, CacheWriteTokens: 5_000, OutputTokens: 1_000}
	if n := testing.AllocsPerRun(100, func() { _ = Cost(p, u) }); n != 0 {
		t.Errorf("Cost allocates %v times per call, want 0", n)
	}
}
