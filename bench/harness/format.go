package harness

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// fmtDur writes a latency compactly: whole microseconds below 1 ms,
// milliseconds with two decimals below 1 s, seconds above.
func fmtDur(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "−", -d
	}
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%s%d µs", sign, d.Round(time.Microsecond)/time.Microsecond)
	case d < time.Second:
		return fmt.Sprintf("%s%.2f ms", sign, float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%s%.2f s", sign, d.Seconds())
	}
}

// fmtAdded writes an added latency with an explicit sign.
func fmtAdded(d time.Duration) string {
	if d >= 0 {
		return "+" + fmtDur(d)
	}
	return fmtDur(d)
}

// fmtCPU writes CPU seconds with two significant decimals.
func fmtCPU(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// mib writes a byte count in MiB, or GiB from 1 GiB up.
func mib(b uint64) string {
	if b >= 1<<30 {
		return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30))
	}
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}

// fmtInt writes n with thousands separators: 12,345.
func fmtInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3+1)
	for i, c := range []byte(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, c)
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// fmtRatio writes " (1.23×)", or nothing when the ratio means nothing.
func fmtRatio(v, base float64) string {
	r, ok := Ratio(v, base)
	if !ok {
		return ""
	}
	return fmt.Sprintf(" (%.2f×)", r)
}

// fmtRPS writes a request rate as a whole number with separators.
func fmtRPS(r float64) string { return fmtInt(int64(math.Round(r))) }
