package harness

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// Options configure Run.
type Options struct {
	Plan   Plan
	Sluice string   // path of bin/sluice
	Self   string   // path of the harness binary; default os.Executable
	Only   []string // system names to run; empty: all. "direct" always runs: the others are measured against it.
	Log    io.Writer
}

// Report is a finished run: what was measured, and where.
type Report struct {
	Plan     Plan
	Machine  Machine
	Layout   Layout
	Results  []*Result
	Started  time.Time
	Elapsed  time.Duration
	Notes    []string // run-wide notes (skipped systems, limits)
	Features []Feature
	// OthersBefore and OthersDuring are the shares of all CPU time that
	// other work on the machine used in the second before the run and
	// during it (-1: unknown). Anything well above zero makes figures noisy.
	OthersBefore, OthersDuring float64
}

// Run measures every selected system and returns the report. Every process
// it starts is stopped before it returns, also on error or when ctx ends.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if _, err := os.Stat(o.Sluice); err != nil {
		return nil, fmt.Errorf("sluice binary: %w (run make build)", err)
	}
	if o.Self == "" {
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		o.Self = self
	}
	dir, err := os.MkdirTemp("", "sluicebench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	procs := &Procs{}
	defer procs.StopAll()

	rep := &Report{Plan: o.Plan, Layout: PlanLayout(), Started: time.Now(), Machine: DescribeMachine()}
	env := &Env{Sluice: o.Sluice, Self: o.Self, Layout: rep.Layout, Dir: dir, Procs: procs, Nginx: lookPath("nginx", "/usr/sbin/nginx"), Wrk: lookPath("wrk")}
	if env.Wrk == "" {
		rep.Notes = append(rep.Notes, "wrk is not installed: max throughput not measured")
	}
	nofile, err := RaiseNoFile(max(o.Plan.NoFileNeeded(), 65536))
	if err != nil {
		return nil, err
	}
	if holds, note := FitHolds(o.Plan.Holds, nofile); note != "" {
		o.Plan.Holds, rep.Plan.Holds = holds, holds
		rep.Notes = append(rep.Notes, note)
	}
	if err := selectSystems(rep, Systems(env), o.Only); err != nil {
		return nil, err
	}
	before := readCPUMeter()
	time.Sleep(time.Second)
	meter := readCPUMeter()
	rep.OthersBefore = before.othersShare(meter)

	r := &runner{env: env, plan: o.Plan, log: o.Log, start: rep.Started}
	phases := []struct {
		name   string
		mode   MockMode
		fn     func(context.Context, *Stand, *Result) error
		rounds int
	}{
		{"throughput", ZeroLatency, r.throughput, o.Plan.Rounds},
		{"latency", ZeroLatency, r.latency, o.Plan.Rounds},
		{"ttft", Realistic, r.ttft, 1},
	}
	for _, ph := range phases {
		if ph.name == "throughput" && env.Wrk == "" {
			continue
		}
		for round := range max(ph.rounds, 1) {
			name := ph.name
			if ph.rounds > 1 {
				name = fmt.Sprintf("%s %d/%d", ph.name, round+1, ph.rounds)
			}
			for _, res := range rep.Results {
				if err := r.with(ctx, name, res, ph.mode, ph.fn); err != nil {
					return nil, err
				}
			}
		}
	}
	r.rateProblems(rep.Results)
	if holds := slices.DeleteFunc(slices.Clone(o.Plan.Holds), func(n int) bool { return n <= 0 }); len(holds) > 0 {
		for _, res := range rep.Results {
			fn := func(ctx context.Context, st *Stand, res *Result) error { return r.hold(ctx, st, res, holds) }
			if err := r.with(ctx, "streams", res, LongStream, fn); err != nil {
				return nil, err
			}
		}
	}
	rep.Elapsed = time.Since(rep.Started)
	rep.OthersDuring = meter.othersShare(readCPUMeter())
	return rep, nil
}

// selectSystems adds a result for each system to run: those in only (all
// when only is empty) and always "direct"; systems this machine cannot run
// become notes.
func selectSystems(rep *Report, all []System, only []string) error {
	for _, name := range only {
		if !slices.ContainsFunc(all, func(s System) bool { return s.Name == name }) {
			return fmt.Errorf("-only: unknown system %q (want go-proxy, nginx, sluice-proxy or sluice-production)", name)
		}
	}
	for _, s := range all {
		if len(only) > 0 && s.Name != "direct" && !slices.Contains(only, s.Name) {
			continue
		}
		if s.Skip != "" {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s skipped: %s", s.Title, s.Skip))
			continue
		}
		if s.Config == "production" {
			rep.Features = s.Features
		}
		rep.Results = append(rep.Results, newResult(s))
	}
	return nil
}

// lookPath finds a program on PATH or at one of the fallback paths (root's
// sbin directories are not always on PATH); empty when it is nowhere.
func lookPath(name string, fallbacks ...string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, p := range fallbacks {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// runner runs the phases of one Run.
type runner struct {
	env   *Env
	plan  Plan
	log   io.Writer
	start time.Time
	rates map[string]*rateAccum // by "system@rate", over the rounds
}

// logf writes a progress line stamped with the time since the run began.
func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.log, "%6s "+format+"\n", append([]any{time.Since(r.start).Round(time.Second)}, args...)...)
}

// with brings up res's system in front of a fresh mock in mode, runs fn and
// takes everything down again. A failure to start or a failed measurement
// is recorded as a problem of that system; only ctx ending stops the run.
func (r *runner) with(ctx context.Context, phase string, res *Result, mode MockMode, fn func(context.Context, *Stand, *Result) error) error {
	r.logf("[%s] %s ...", phase, res.System.Name)
	st, err := r.env.Up(ctx, res.System, mode)
	if err == nil {
		err = fn(ctx, st, res)
		if err == nil && st.SUT.Exited() {
			err = fmt.Errorf("process exited during the run: %s", st.SUT.LogTail(800))
		}
		st.Down()
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		msg := fmt.Sprintf("%s: %v", phase, err)
		res.Problems = append(res.Problems, msg)
		r.logf("[%s] %s: %s", phase, res.System.Name, firstLine(msg))
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
