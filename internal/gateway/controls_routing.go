package gateway

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/internal/router"
)

// Routing controls a client may send (all optional); they override the
// model's retry policy (and a target's own) and request timeout for one
// request.
const (
	// headerMaxAttempts is how many times one target may be tried, 1 to
	// router.MaxAttemptsPerTarget.
	headerMaxAttempts = "X-Sluice-Max-Attempts"
	// headerRetryDelay is the first wait between two attempts, in
	// milliseconds (0 to maxRetryDelayMS).
	headerRetryDelay = "X-Sluice-Retry-Delay"
	// headerBackoff is constant, linear or exponential.
	headerBackoff = "X-Sluice-Backoff"
	// headerRequestTimeout bounds the time to the first byte of the
	// answer, in milliseconds (1 to maxRequestTimeoutMS).
	headerRequestTimeout = "X-Sluice-Request-Timeout"
)

const (
	maxRetryDelayMS     = 60_000
	maxRequestTimeoutMS = 600_000
)

// applyRoutingControls reads the routing headers of h into p. A header
// that is present but malformed or out of bounds is a 400 invalid_header.
// Absent headers leave p alone; with none present it does not allocate.
func applyRoutingControls(h http.Header, p *router.Policy) error {
	if v := h.Get(headerMaxAttempts); v != "" {
		n, err := boundedInt(v, 1, router.MaxAttemptsPerTarget)
		if err != nil {
			return badControl(headerMaxAttempts, err.Error())
		}
		p.MaxAttempts = n
		p.Fixed |= router.FixedMaxAttempts
	}
	if v := h.Get(headerRetryDelay); v != "" {
		n, err := boundedInt(v, 0, maxRetryDelayMS)
		if err != nil {
			return badControl(headerRetryDelay, err.Error()+" (milliseconds)")
		}
		p.Delay = time.Duration(n) * time.Millisecond
		p.Fixed |= router.FixedDelay
	}
	if v := h.Get(headerBackoff); v != "" {
		b, ok := router.ParseBackoff(v)
		if !ok {
			return badControl(headerBackoff, "must be constant, linear or exponential")
		}
		p.Backoff = b
		p.Fixed |= router.FixedBackoff
	}
	if v := h.Get(headerRequestTimeout); v != "" {
		n, err := boundedInt(v, 1, maxRequestTimeoutMS)
		if err != nil {
			return badControl(headerRequestTimeout, err.Error()+" (milliseconds to the first byte)")
		}
		p.RequestTimeout = time.Duration(n) * time.Millisecond
	}
	return nil
}

// boundedInt parses a decimal integer from lo to hi.
func boundedInt(s string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("must be an integer from %d to %d", lo, hi)
	}
	return n, nil
}
