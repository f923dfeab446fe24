package limit

import (
	"testing"
	"time"
)

func TestFormatReset(t *testing.T) {
	cases := []struct {
		name string
		in   time.Duration
		want string
	}{
		{"zero", 0, "0s"},
		{"negative", -time.Second, "0s"},
		{"one nanosecond rounds up to a millisecond", 1, "1ms"},
		{"milliseconds", 20 * time.Millisecond, "20ms"},
		{"sub-millisecond rounds up", 12*time.Millisecond + 1, "13ms"},
		{"one second", time.Second, "1s"},
		{"fractional seconds keep milliseconds", 8640 * time.Millisecond, "8.64s"},
		{"just under a minute", time.Minute - time.Microsecond, "1m0s"},
		{"minutes round up to seconds", 6*time.Minute - 300*time.Millisecond, "6m0s"},
		{"six minutes", 6 * time.Minute, "6m0s"},
		{"hours", 2*time.Hour + time.Second, "2h0m1s"},
		{"maximum does not overflow", maxDuration, "2562047h47m16s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := FormatReset(tc.in); got != tc.want {
				t.Errorf("FormatReset(%d) = %q, want %q", tc.in, got, tc.want)
			}
			if tc.in > 0 {
				if back, err := time.ParseDuration(FormatReset(tc.in)); err != nil || back < tc.in-time.Second {
					t.Errorf("ParseDuration(FormatReset(%d)) = %v, %v: want a parsable duration not below the input", tc.in, back, err)
				}
			}
		})
	}
}

func TestFormatRetryAfter(t *testing.T) {
	cases := []struct {
		name string
		in   time.Duration
		want string
	}{
		{"zero", 0, "0"},
		{"negative", -time.Millisecond, "0"},
		{"a millisecond rounds up to a second", time.Millisecond, "1"},
		{"whole seconds", 3 * time.Second, "3"},
		{"fraction rounds up", 3*time.Second + 1, "4"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := FormatRetryAfter(tc.in); got != tc.want {
				t.Errorf("FormatRetryAfter(%d) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
