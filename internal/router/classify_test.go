package router

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
)

// An upstream that refuses the gateway's credentials (401, or a 403 for
// a model the key may not use) gives the same answer to the same request
// however often it is sent: the router moves to the next candidate at
// once instead of spending the retries on it (each retry would take, and
// on a 401 disable, another vault key), and the refusal does not count
// against the target's health.
func TestCredentialRefusalsMoveOnWithoutRetry(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"401 invalid key", llm.ProviderStatusError("a", 401, llm.TypeInvalidRequest, "invalid_api_key", "", "bad key", 0)},
		{"403 no access to the model", llm.ProviderStatusError("a", 403, llm.TypeInvalidRequest, "model_not_found", "",
			"Project `proj_x` does not have access to model `gpt-5`", 0)},
		{"403 anthropic permission", llm.ProviderStatusError("a", 403, llm.TypePermission, "", "", "no", 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rr := newRunRouter(t, Policy{MaxAttempts: MaxAttemptsPerTarget, Delay: time.Millisecond},
				HealthConfig{Breaker: BreakerConfig{Enabled: true, ConsecutiveFailures: 1, Cooldown: time.Hour}})
			res, tried := rr.run(t, false, map[string][]error{"a": {tc.err, tc.err, tc.err}})
			if d := cmp.Diff([]string{"a/1", "b/2"}, tried); d != "" {
				t.Errorf("tried (-want +got):\n%s", d)
			}
			if res.Err != nil || res.Retries != 0 || len(rr.waits) != 0 {
				t.Errorf("result err %v, %d retries, waits %v; want b/2 at once", res.Err, res.Retries, rr.waits)
			}
			if st := rr.health.Target("a", "1", true).State(); st != StateClosed {
				t.Errorf("the refusal opened a's breaker (%s)", StateName(st))
			}
			if judge(llm.AsError(tc.err), 0) != verdictNext || health(llm.AsError(tc.err)) != outcomeNeutral {
				t.Errorf("judge %d, health %d; want next and neutral", judge(llm.AsError(tc.err), 0), health(llm.AsError(tc.err)))
			}
		})
	}
}
