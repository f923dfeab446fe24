package harness

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// fixture is a finished run with every kind of cell: measured figures,
// a ratio, a negative added latency, a warning and a missing figure.
func fixture() *Report {
	us := time.Microsecond
	p := PlanFor(false)
	res := func(name, title string) *Result {
		return newResult(System{Name: name, Title: title})
	}
	direct := res("direct", "direct to mock")
	direct.Throughput = &WrkResult{Requests: 200000, Duration: 10 * time.Second}
	direct.Busy = 0.5
	direct.Rates[1000] = RateResult{Rate: 1000, Requests: 10000, P50: 150 * us, P99: 400 * us, Success: 1, CPU: 300 * time.Millisecond}
	direct.Rates[5000] = RateResult{Rate: 5000, Requests: 50000, P50: 200 * us, P99: 900 * us, Success: 1, CPU: 1500 * time.Millisecond}
	direct.TTFT = &TTFTResult{Streams: 1000, P50: 301 * time.Millisecond, P99: 305 * time.Millisecond}
	direct.Holds[1000] = HoldResult{Want: 1000, Live: 1000, Mem: Memory{Peak: 40 << 20}}
	direct.Holds[10000] = HoldResult{Want: 10000, Live: 10000, Mem: Memory{Peak: 300 << 20}}

	base := res("go-proxy", "Go httputil.ReverseProxy (baseline)")
	base.Throughput = &WrkResult{Requests: 150000, Duration: 10 * time.Second}
	base.Busy = 0.9
	base.Rates[1000] = RateResult{Rate: 1000, Requests: 10000, P50: 200 * us, P99: 500 * us, Success: 1, CPU: 400 * time.Millisecond}
	base.Rates[5000] = RateResult{Rate: 5000, Requests: 50000, P50: 260 * us, P99: 1100 * us, Success: 1, CPU: 1800 * time.Millisecond}
	base.TTFT = &TTFTResult{Streams: 1000, P50: 302 * time.Millisecond, P99: 307 * time.Millisecond}
	base.Holds[1000] = HoldResult{Want: 1000, Live: 1000, Mem: Memory{Peak: 70 << 20}}
	base.Holds[10000] = HoldResult{Want: 10000, Live: 10000, Mem: Memory{Peak: 550 << 20}}

	prod := res("sluice-production", "Sluice, production config")
	prod.Throughput = &WrkResult{Requests: 100000, Duration: 10 * time.Second, Non2xx: 3}
	prod.Busy = 1
	prod.Rates[1000] = RateResult{Rate: 1000, Requests: 10000, P50: 240 * us, P99: 1500 * us, Success: 1, CPU: 700 * time.Millisecond}
	prod.Rates[5000] = RateResult{Rate: 5000, Requests: 50000, P50: 190 * us, P99: 3 * time.Millisecond, Success: 0.99,
		Codes: map[string]int{"200": 49500, "502": 500}, CPU: 3 * time.Second}
	prod.Holds[1000] = HoldResult{Want: 1000, Live: 1000, Mem: Memory{Peak: 60 << 20}}
	prod.Problems = []string{"ttft: 001-sluice-production exited before it was ready (exit status 1): boom", "latency @5000 rps: 99.00% of 50000 requests succeeded"}

	return &Report{
		Plan: p,
		Machine: Machine{CPU: "AMD EPYC 7B13", Cores: 2, MemoryGiB: 23.5, Kernel: "6.1.0", Go: "go1.26.8",
			Commit: "abc1234-dirty", Nginx: "nginx/1.22.1", Wrk: "wrk 4.1.0", Vegeta: "v12.13.0"},
		Layout:       Layout{Note: "harness on CPU 0; the process under test on CPU 1"},
		Results:      []*Result{direct, base, prod},
		Started:      time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC),
		Elapsed:      7*time.Minute + 12*time.Second,
		OthersBefore: 0.01,
		OthersDuring: 0.02,
		Notes:        []string{"nginx proxy_pass skipped: nginx is not installed"},
		Features:     []Feature{{Name: "key-auth", On: true}, {Name: "metrics", Note: "not implemented yet"}},
	}
}

func TestMarkdownGolden(t *testing.T) {
	got := Markdown(fixture(), "make bench")
	golden := filepath.Join("testdata", "report.golden.md")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("Markdown (-want +got):\n%s", diff)
	}
}

func TestTableCells(t *testing.T) {
	table := Table(PlanFor(false), fixture().Results)
	rows := map[string][]string{}
	for line := range strings.Lines(table) {
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows[cells[0]] = cells[1:]
	}
	tests := []struct {
		name, row string
		col       int
		want      string
	}{
		{"direct row is absolute and italic", "direct to mock", 1, "*150 µs*"},
		{"baseline has no ratio", "Go httputil.ReverseProxy (baseline)", 1, "+50 µs"},
		{"added latency with ratio to the baseline's", "Sluice, production config", 1, "+90 µs (1.80×)"},
		{"negative added latency has no ratio", "Sluice, production config", 3, "−10 µs ⚠"},
		{"throughput ratio and warning", "Sluice, production config", 0, "10,000 (0.67×) ⚠"},
		{"CPU ratio", "Sluice, production config", 7, "0.70 s (1.75×)"},
		{"CPU ratio and warning from its run", "Sluice, production config", 8, "0.60 s (1.67×) ⚠"},
		{"missing figure", "Sluice, production config", 6, "—"},
		{"RSS in MiB", "Go httputil.ReverseProxy (baseline)", 10, "550 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row, ok := rows[tt.row]
			if !ok || tt.col >= len(row) {
				t.Fatalf("no row %q column %d in:\n%s", tt.row, tt.col, table)
			}
			if row[tt.col] != tt.want {
				t.Errorf("cell = %q, want %q", row[tt.col], tt.want)
			}
		})
	}
}

func TestTargets(t *testing.T) {
	rep := fixture()
	got := Targets(rep.Plan, rep.Results)
	want := []string{
		"**FAIL** CPU per request at 1,000 rps, production config, vs the Go reverse proxy: 1.75× (target ≤ 1.50×; over by 17%)",
		"**not measured** CPU per request at 1,000 rps, proxy config, vs the Go reverse proxy",
		"**FAIL** added p99 at 1,000 rps, production config: +1.10 ms (target < 1 ms; over by 10%)",
		"**not measured** peak RSS holding 10,000 streams, production config",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Targets (-want +got):\n%s", diff)
	}
}

func TestRSSTarget(t *testing.T) {
	withHolds := func(peaks map[int]uint64) *Result {
		r := newResult(System{Name: "sluice-production"})
		for n, p := range peaks {
			r.Holds[n] = HoldResult{Want: n, Live: n, Mem: Memory{Peak: p}}
		}
		return r
	}
	withLive := func(want, live int, peak uint64) *Result {
		r := newResult(System{Name: "sluice-production"})
		r.Holds[want] = HoldResult{Want: want, Live: live, Failures: want - live, Mem: Memory{Peak: peak}}
		return r
	}
	tests := []struct {
		name  string
		holds []int
		r     *Result
		want  string
	}{
		{"measured at 10,000", []int{1000, 10000}, withHolds(map[int]uint64{1000: 50 << 20, 10000: 400 << 20}),
			"**PASS** peak RSS holding 10,000 streams, production config: 400 MiB (target < 1 GiB)"},
		{"over the limit", []int{10000}, withHolds(map[int]uint64{10000: 1536 << 20}),
			"**FAIL** peak RSS holding 10,000 streams, production config: 1.50 GiB (target < 1 GiB; over by 50%)"},
		{"extrapolated from the slope of two counts", []int{1000, 9900}, withHolds(map[int]uint64{1000: 100 << 20, 9900: 990 << 20}),
			"**PASS** peak RSS holding 10,000 streams, production config: ≈1000 MiB, extrapolated from 990 MiB measured with 9,900 streams open (target < 1 GiB)"},
		{"extrapolated from one count", []int{5000}, withHolds(map[int]uint64{5000: 600 << 20}),
			"**FAIL** peak RSS holding 10,000 streams, production config: ≈1.17 GiB, extrapolated from 600 MiB measured with 5,000 streams open (target < 1 GiB; over by 17%)"},
		{"extrapolated from the streams actually open", []int{10000}, withLive(10000, 5000, 600<<20),
			"**FAIL** peak RSS holding 10,000 streams, production config: ≈1.17 GiB, extrapolated from 600 MiB measured with 5,000 streams open, with 5,000 of 10,000 streams open (see Problems) (target < 1 GiB; over by 17%)"},
		{"not run", []int{10000}, nil, "**not measured** peak RSS holding 10,000 streams, production config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := PlanFor(false)
			p.Holds = tt.holds
			if got := rssTarget(p, tt.r); got != tt.want {
				t.Errorf("rssTarget =\n%q, want\n%q", got, tt.want)
			}
		})
	}
}

func TestFormatting(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"microseconds", fmtDur(1499 * time.Nanosecond), "1 µs"},
		{"milliseconds", fmtDur(1500 * time.Microsecond), "1.50 ms"},
		{"seconds", fmtDur(2500 * time.Millisecond), "2.50 s"},
		{"negative", fmtDur(-12 * time.Microsecond), "−12 µs"},
		{"added positive", fmtAdded(12 * time.Microsecond), "+12 µs"},
		{"added zero", fmtAdded(0), "+0 µs"},
		{"thousands", fmtInt(1234567), "1,234,567"},
		{"small", fmtInt(999), "999"},
		{"negative thousands", fmtInt(-1234), "-1,234"},
		{"MiB", mib(300 << 20), "300 MiB"},
		{"GiB", mib(3 << 29), "1.50 GiB"},
		{"ratio", fmtRatio(3, 2), " (1.50×)"},
		{"meaningless ratio", fmtRatio(3, 0), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
