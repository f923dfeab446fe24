package harness

import (
	"strings"
	"testing"
	"time"
)

func TestOthersShare(t *testing.T) {
	start := cpuMeter{tasks: 1000, total: 5000, ours: 2 * time.Second, ok: true}
	tests := []struct {
		name  string
		from  cpuMeter
		later cpuMeter
		want  float64
	}{
		// 200 jiffies in all, 100 running tasks, of which the harness tree used 80 (0.8 s).
		{"others took the rest of the busy time", start, cpuMeter{tasks: 1100, total: 5200, ours: 2800 * time.Millisecond, ok: true}, 0.1},
		{"all busy time was ours", start, cpuMeter{tasks: 1100, total: 5200, ours: 3 * time.Second, ok: true}, 0},
		{"ours over the busy time (tick rounding) is zero, not negative", start, cpuMeter{tasks: 1100, total: 5200, ours: 4 * time.Second, ok: true}, 0},
		{"unreadable", start, cpuMeter{}, -1},
		{"no time passed", start, start, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.from.othersShare(tt.later); got < tt.want-1e-9 || got > tt.want+1e-9 {
				t.Errorf("othersShare = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNoiseLine(t *testing.T) {
	tests := []struct {
		name           string
		before, during float64
		want           string
		noisy          bool
	}{
		{"quiet", 0.01, 0.02, "used 1% of all CPU time in the second before the run and 2% during it.", false},
		{"busy during", 0, 0.3, "and 30% during it.", true},
		{"busy before", 0.5, 0, "used 50%", true},
		{"unknown", -1, -1, "used unknown of all CPU time", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := noiseLine(tt.before, tt.during)
			if !strings.Contains(got, tt.want) {
				t.Errorf("noiseLine = %q, want it to contain %q", got, tt.want)
			}
			if noisy := strings.Contains(got, "not fit for comparison"); noisy != tt.noisy {
				t.Errorf("noiseLine = %q: flagged noisy %v, want %v", got, noisy, tt.noisy)
			}
		})
	}
}
