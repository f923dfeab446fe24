package gateway

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/router"
)

func TestApplyRoutingControls(t *testing.T) {
	base := router.Policy{MaxAttempts: 1, Delay: time.Second, Backoff: router.BackoffExponential}
	tests := []struct {
		name    string
		headers map[string]string
		want    router.Policy
		bad     string // the header a 400 names
	}{
		{name: "none", want: base},
		{name: "all", headers: map[string]string{headerMaxAttempts: "4", headerRetryDelay: "0", headerBackoff: "linear", headerRequestTimeout: "1500"},
			want: router.Policy{MaxAttempts: 4, Delay: 0, Backoff: router.BackoffLinear, RequestTimeout: 1500 * time.Millisecond,
				Fixed: router.FixedMaxAttempts | router.FixedDelay | router.FixedBackoff}},
		{name: "bounds are inclusive", headers: map[string]string{headerMaxAttempts: "10", headerRetryDelay: "60000", headerRequestTimeout: "600000"},
			want: router.Policy{MaxAttempts: 10, Delay: time.Minute, RequestTimeout: 10 * time.Minute,
				Fixed: router.FixedMaxAttempts | router.FixedDelay}},
		{name: "attempts zero", headers: map[string]string{headerMaxAttempts: "0"}, bad: headerMaxAttempts},
		{name: "attempts too many", headers: map[string]string{headerMaxAttempts: "11"}, bad: headerMaxAttempts},
		{name: "delay negative", headers: map[string]string{headerRetryDelay: "-5"}, bad: headerRetryDelay},
		{name: "delay with a unit", headers: map[string]string{headerRetryDelay: "100ms"}, bad: headerRetryDelay},
		{name: "backoff unknown", headers: map[string]string{headerBackoff: "Exponential"}, bad: headerBackoff},
		{name: "timeout zero", headers: map[string]string{headerRequestTimeout: "0"}, bad: headerRequestTimeout},
		{name: "timeout huge", headers: map[string]string{headerRequestTimeout: "99999999999999999999"}, bad: headerRequestTimeout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.headers {
				h.Set(k, v)
			}
			p := base
			err := applyRoutingControls(h, &p)
			if tc.bad != "" {
				e := llm.AsError(err)
				if err == nil || e.Status != http.StatusBadRequest || e.Code != "invalid_header" || e.Param != lower(tc.bad) {
					t.Fatalf("err = %v, want a 400 invalid_header naming %s", err, tc.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, p); diff != "" {
				t.Errorf("policy (-want +got):\n%s", diff)
			}
		})
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// FuzzApplyRoutingControls: any header values either parse within the
// documented bounds or give a 400; never a panic.
func FuzzApplyRoutingControls(f *testing.F) {
	f.Add("3", "250", "exponential", "1000")
	f.Add("", "", "", "")
	f.Add("0", "-1", "x", "0")
	f.Add("+7", "0060000", "constant", "600000")
	f.Add("1e3", " 5", "linear", "9223372036854775808")
	f.Fuzz(func(t *testing.T, attempts, delay, backoff, timeout string) {
		h := http.Header{}
		for k, v := range map[string]string{headerMaxAttempts: attempts, headerRetryDelay: delay,
			headerBackoff: backoff, headerRequestTimeout: timeout} {
			if v != "" {
				h[k] = []string{v}
			}
		}
		var p router.Policy
		if err := applyRoutingControls(h, &p); err != nil {
			if e := llm.AsError(err); e.Status != http.StatusBadRequest {
				t.Fatalf("err %v is not a 400", err)
			}
			return
		}
		if p.MaxAttempts < 0 || p.MaxAttempts > router.MaxAttemptsPerTarget || p.Delay < 0 || p.Delay > time.Minute ||
			p.RequestTimeout < 0 || p.RequestTimeout > 10*time.Minute {
			t.Fatalf("out of bounds: %+v", p)
		}
	})
}
