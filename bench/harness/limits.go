package harness

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// layoutEnv carries the layout into the re-executed, pinned harness as
// "LOADCPU,SUTCPU": once pinned, it can no longer see the other CPU.
const layoutEnv = "SLUICEBENCH_LAYOUT"

// Layout says which CPUs run what. On a machine with two or more CPUs the
// load generators and the mock share the first CPU and the process under
// test gets the second to itself; with one CPU nothing is pinned.
type Layout struct {
	Taskset string // path of taskset; empty: not installed, nothing pinned
	LoadCPU string // CPU list for the harness, wrk and the mock; empty: unpinned
	SUTCPU  string // CPU list for the process under test; empty: unpinned
	Note    string // a sentence for the report
}

// PlanLayout picks the layout from the CPUs this process may run on, or
// takes the one PinSelf passed on.
func PlanLayout() Layout {
	taskset, err := exec.LookPath("taskset")
	if err != nil {
		return Layout{Note: "taskset not found: nothing pinned, generator and process under test share all CPUs"}
	}
	l := Layout{Taskset: taskset}
	if v := os.Getenv(layoutEnv); v != "" {
		l.LoadCPU, l.SUTCPU, _ = strings.Cut(v, ",")
	} else {
		cpus, err := allowedCPUs()
		if err != nil || len(cpus) < 2 {
			return Layout{Note: "fewer than two CPUs: nothing pinned"}
		}
		l.LoadCPU, l.SUTCPU = strconv.Itoa(cpus[0]), strconv.Itoa(cpus[1])
	}
	l.Note = fmt.Sprintf("harness (vegeta, streaming client), wrk and the mock pinned to CPU %s; the process under test pinned to CPU %s (Go processes therefore run with GOMAXPROCS=1, nginx with one worker)", l.LoadCPU, l.SUTCPU)
	if n := niceness(); n < 0 {
		l.Note += fmt.Sprintf("; every benchmark process runs at nice %d so that other work on the machine disturbs it less", n)
	}
	return l
}

// benchNice is the niceness PinSelf asks for (it needs privilege; without
// it nice(1) warns and runs the harness unchanged).
const benchNice = "-10"

// niceness is this process's nice value.
func niceness() int {
	prio, err := syscall.Getpriority(syscall.PRIO_PROCESS, 0)
	if err != nil {
		return 0
	}
	return 20 - prio // the raw syscall answers 20-nice
}

// PinSelf re-executes the harness under taskset on l.LoadCPU, so that it
// and every child that is not pinned elsewhere (wrk, the mock) share that
// CPU, and under nice(1) at benchNice when nice is installed, so that every
// thread and child starts with that priority. It returns only when no
// re-exec is needed or possible.
func PinSelf(l Layout) error {
	if l.Taskset == "" || l.LoadCPU == "" || os.Getenv(layoutEnv) != "" {
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("pin: %w", err)
	}
	argv := []string{l.Taskset, "-c", l.LoadCPU}
	if nice, err := exec.LookPath("nice"); err == nil {
		argv = append(argv, nice, "-n", benchNice)
	}
	argv = append(append(argv, self), os.Args[1:]...)
	env := append(os.Environ(), layoutEnv+"="+l.LoadCPU+","+l.SUTCPU)
	return fmt.Errorf("pin: %w", syscall.Exec(l.Taskset, argv, env))
}

// allowedCPUs lists the CPUs in this process's affinity mask, read from
// the Cpus_allowed_list line of /proc/self/status ("0-1", "0,2-3").
func allowedCPUs() ([]int, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return ParseCPUList(strings.TrimSpace(v))
		}
	}
	return nil, fmt.Errorf("no Cpus_allowed_list in /proc/self/status")
}

// maxCPUs is Linux's largest CPU count (NR_CPUS with CONFIG_MAXSMP).
const maxCPUs = 8192

// ParseCPUList parses a Linux CPU list such as "0-2,4".
func ParseCPUList(s string) ([]int, error) {
	var cpus []int
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("cpu list %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return nil, fmt.Errorf("cpu list %q: %w", s, err)
			}
		}
		if a < 0 || b < a {
			return nil, fmt.Errorf("cpu list %q: range %d-%d is backwards", s, a, b)
		}
		if b >= maxCPUs {
			return nil, fmt.Errorf("cpu list %q: CPU %d is beyond the %d Linux supports", s, b, maxCPUs)
		}
		for c := a; c <= b; c++ {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}

// RaiseNoFile raises RLIMIT_NOFILE to at least want (soft and, if need be,
// hard) so that the harness and its children can hold tens of thousands of
// sockets. Raising the hard limit needs privilege; without it the soft limit
// goes as high as the hard one. It returns the soft limit now in force.
//
// It always calls syscall.Setrlimit, even when the Go runtime has already
// raised the soft limit: only an explicit call makes children inherit the
// raised limit instead of the one the harness was started with.
func RaiseNoFile(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("rlimit: %w", err)
	}
	want = max(want, lim.Cur)
	next := syscall.Rlimit{Cur: want, Max: max(lim.Max, want)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &next); err != nil {
		next = syscall.Rlimit{Cur: lim.Max, Max: lim.Max}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &next); err != nil {
			return lim.Cur, fmt.Errorf("rlimit: %w", err)
		}
	}
	return next.Cur, nil
}
