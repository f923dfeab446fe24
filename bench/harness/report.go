package harness

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Markdown renders the whole report: when and where it ran, how to
// reproduce it, the table, the targets, and every note and problem.
// command is what reproduces the run ("make bench").
func Markdown(rep *Report, command string) string {
	var b strings.Builder
	mode := "full"
	if rep.Plan.Quick {
		mode = "quick (short runs: noisier)"
	}
	m := rep.Machine
	fmt.Fprintf(&b, "Run %s, %s mode, %s in all. Reproduce with `%s`.\n\n",
		rep.Started.UTC().Format("2006-01-02 15:04 MST"), mode, rep.Elapsed.Round(time.Second), command)
	fmt.Fprintf(&b, "Machine: %s, %d CPUs, %.1f GiB; Linux %s; %s; commit %s. Tools: nginx %s, wrk %s, vegeta %s.\n\n",
		orUnknown(m.CPU), m.Cores, m.MemoryGiB, orUnknown(m.Kernel), m.Go, orUnknown(m.Commit),
		orUnknown(m.Nginx), orUnknown(m.Wrk), orUnknown(m.Vegeta))
	fmt.Fprintf(&b, "Pinning: %s.\n\n", rep.Layout.Note)
	b.WriteString(noiseLine(rep.OthersBefore, rep.OthersDuring))
	b.WriteString(workloads(rep.Plan))
	b.WriteString("\n")
	b.WriteString(Table(rep.Plan, rep.Results))
	b.WriteString("\nCells show the figure and, in brackets, its ratio to the Go reverse proxy in the same run. " +
		"Latency columns are *added* latency: the percentile through the system minus the same percentile calling the mock directly " +
		"(a difference of percentiles, which can dip below zero within run-to-run noise). " +
		"The direct row, in italics, shows the absolute latencies the others are measured against, and the mock's own CPU and memory. " +
		"⚠ marks a figure measured with errors (see Problems).\n\n")
	if busy := busyLine(rep.Results); busy != "" {
		b.WriteString(busy + "\n\n")
	}
	b.WriteString("Targets (issue 3):\n\n")
	for _, t := range Targets(rep.Plan, rep.Results) {
		b.WriteString("- " + t + "\n")
	}
	b.WriteString("- allocations per request: measured by the Go benchmarks (`go test -bench`), not by this harness\n\n")
	b.WriteString(featuresLine(rep.Features) + "\n")
	if len(rep.Notes) > 0 {
		b.WriteString("\nNotes:\n\n")
		for _, n := range rep.Notes {
			b.WriteString("- " + n + "\n")
		}
	}
	problems := false
	for _, r := range rep.Results {
		for _, p := range r.Problems {
			if !problems {
				b.WriteString("\nProblems seen (reported as measured, not worked around):\n\n")
				problems = true
			}
			fmt.Fprintf(&b, "- %s — %s\n", r.System.Title, oneLine(p))
		}
	}
	return b.String()
}

// noisyShare is the share of CPU time other work may take before a run is
// flagged as not fit for comparison.
const noisyShare = 0.05

// noiseLine says how much CPU other work on the machine took.
func noiseLine(before, during float64) string {
	pct := func(v float64) string {
		if v < 0 {
			return "unknown"
		}
		return fmt.Sprintf("%.0f%%", v*100)
	}
	s := fmt.Sprintf("Other work on the machine used %s of all CPU time in the second before the run and %s during it.", pct(before), pct(during))
	if before > noisyShare || during > noisyShare {
		s += " **The run shared the machine: its figures are noisy and not fit for comparison.**"
	}
	return s + "\n\n"
}

func workloads(p Plan) string {
	rates := make([]string, len(p.Rates))
	for i, r := range p.Rates {
		rates[i] = fmtInt(int64(r))
	}
	holds := make([]string, len(p.Holds))
	for i, n := range p.Holds {
		holds[i] = fmtInt(int64(n))
	}
	return fmt.Sprintf("Workloads (every system and the mock restarted fresh for each): "+
		"max throughput = wrk, 1 thread, %d connections, %v, non-streaming chat; "+
		"latency = vegeta at %s rps for %v each, non-streaming, with CPU per 10k requests of the process under test over the same runs; "+
		"TTFT = %s streams from %d concurrent clients, mock %s; "+
		"peak RSS (VmHWM) with %s concurrent streams open, mock %s. "+
		"Zero-latency mock for the non-streaming runs. Each run follows a %v warm-up.%s\n",
		p.WrkConns, p.ThroughputFor, strings.Join(rates, " and "), p.RateFor,
		fmtInt(int64(p.TTFTStreams)), p.TTFTConc, Realistic.describe(),
		strings.Join(holds, " and "), LongStream.describe(), p.Warmup, roundsNote(p.Rounds))
}

func roundsNote(n int) string {
	if n <= 1 {
		return ""
	}
	return fmt.Sprintf(" Throughput and latency are measured in %d rounds taken in turn over the systems, each on fresh processes, and pooled.", n)
}

func (m MockMode) describe() string {
	return fmt.Sprintf("%v to first chunk then %d chunks %v apart", m.Latency, m.Chunks, m.Interval)
}

// busyLine says how busy each process under test was at max throughput,
// which tells a CPU-bound proxy from one that waited on the load generator.
func busyLine(rs []*Result) string {
	var parts []string
	for _, r := range rs {
		if r.Throughput != nil {
			parts = append(parts, fmt.Sprintf("%s %.0f%%", r.System.Name, r.Busy*100))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "CPU of the process under test during the max-throughput run (100% = one core): " + strings.Join(parts, ", ") +
		". Below ~100%, the shared generator-and-mock core was the limit, not the system."
}

// featuresLine says plainly which production features the run had.
func featuresLine(fs []Feature) string {
	if len(fs) == 0 {
		return "Production config: not run."
	}
	var on, off []string
	for _, f := range fs {
		if f.On {
			on = append(on, f.Name)
		} else {
			off = append(off, fmt.Sprintf("%s (%s)", f.Name, f.Note))
		}
	}
	sort.Strings(on)
	s := "Production config in this run — on: "
	if len(on) == 0 {
		s += "none"
	} else {
		s += strings.Join(on, ", ")
	}
	if len(off) > 0 {
		s += "; off: " + strings.Join(off, ", ")
	}
	return s + ". The production-config figures include only the features marked on."
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
