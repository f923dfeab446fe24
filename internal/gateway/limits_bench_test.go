package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/auth"
)

// BenchmarkLimitsStage is the limits stage's cost per request on the
// memory backend, around a handler that does nothing: a caller nothing
// limits, a key with requests, tokens and concurrency limits, and the key
// with its team and tenant limited too (settle included).
func BenchmarkLimitsStage(b *testing.B) {
	const big = 1 << 40 // never refused
	for _, bc := range []struct {
		name string
		p    *auth.Principal
	}{
		{"unlimited", &auth.Principal{KeyID: "k1"}},
		{"key rpm+tpm+concurrency", &auth.Principal{KeyID: "k1", RPM: big, TPM: big, MaxConcurrent: big}},
		{"key+team+tenant", &auth.Principal{KeyID: "k1", RPM: big, TPM: big, MaxConcurrent: big,
			TeamID: "t1", Team: auth.Limits{RPM: big, TPM: big}, TenantID: "n1", Tenant: auth.Limits{RPM: big, MaxConcurrent: big}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			rl := testLimits(time.Now, 2)
			stage := rl.stageFor(HandlerFunc(func(context.Context, *Exchange) error { return nil }))
			ctx := callerCtx(bc.p)
			ex := chatExchange("What is the capital of France? Answer in one word.", 0)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				ex.limits = nil
				if err := stage.Serve(ctx, ex); err != nil {
					b.Fatal(err)
				}
				ex.limits.settle(ex)
			}
		})
	}
}
