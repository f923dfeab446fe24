package harness

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFitHolds(t *testing.T) {
	tests := []struct {
		name     string
		holds    []int
		nofile   uint64
		want     []int
		wantNote bool
	}{
		{"everything fits", []int{1000, 10000}, 65536, []int{1000, 10000}, false},
		{"exactly fits", []int{10000}, 20200, []int{10000}, false},
		{"largest lowered to a multiple of 100", []int{1000, 10000}, 20000, []int{1000, 9900}, true},
		{"every count lowered", []int{1000, 10000}, 1024, []int{400, 400}, true},
		{"nothing fits", []int{1000}, 100, []int{0}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, note := FitHolds(tt.holds, tt.nofile)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("FitHolds (-want +got):\n%s", diff)
			}
			if (note != "") != tt.wantNote {
				t.Errorf("note = %q, want a note: %v", note, tt.wantNote)
			}
		})
	}
}

func TestPlansFitTheirBudgets(t *testing.T) {
	for _, quick := range []bool{false, true} {
		p := PlanFor(quick)
		if p.Quick != quick || len(p.Rates) == 0 || p.Rates[0] != 1000 {
			t.Errorf("PlanFor(%v) = %+v: want rates starting at 1,000 rps", quick, p)
		}
		if got := p.NoFileNeeded(); got != 2*10000+fdReserve {
			t.Errorf("PlanFor(%v).NoFileNeeded() = %d, want %d", quick, got, 2*10000+fdReserve)
		}
	}
}
