package budget

import "strconv"

// FormatUSD writes micro-dollars for people: "$10.00", "$0.50",
// "$0.000123" (cents always, further digits only where they are not 0).
func FormatUSD(micros int64) string {
	var buf [32]byte
	b := append(buf[:0], '$')
	u := uint64(micros)
	if micros < 0 {
		b = append(b[:0], '-', '$')
		u = -u
	}
	b = strconv.AppendUint(b, u/1_000_000, 10)
	frac := u % 1_000_000
	digits := [6]byte{}
	for i := 5; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := 6
	for n > 2 && digits[n-1] == '0' {
		n--
	}
	b = append(b, '.')
	b = append(b, digits[:n]...)
	return string(b)
}
