package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// Machine describes where a run happened, for the report.
type Machine struct {
	CPU       string // model name from /proc/cpuinfo
	Cores     int    // logical CPUs online
	MemoryGiB float64
	Kernel    string
	Go        string
	Commit    string // git describe of the working tree, "-dirty" when it has changes
	Nginx     string // nginx -v; empty when not installed
	Wrk       string
	Vegeta    string
}

// DescribeMachine gathers the machine details it can; what it cannot read
// stays empty.
func DescribeMachine() Machine {
	m := Machine{Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPU, m.Cores = ParseCPUInfo(b)
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if n, err := ParseStatusBytes(b, "MemTotal"); err == nil {
			m.MemoryGiB = float64(n) / (1 << 30)
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("git", "describe", "--always", "--dirty").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
	}
	m.Nginx = strings.TrimPrefix(output("nginx", "-v"), "nginx version: ")
	if m.Nginx == "" {
		m.Nginx = strings.TrimPrefix(output("/usr/sbin/nginx", "-v"), "nginx version: ")
	}
	m.Wrk, _, _ = strings.Cut(output("wrk", "-v"), " Copyright")
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/tsenart/vegeta/v12" {
				m.Vegeta = d.Version
			}
		}
	}
	return m
}

// ParseCPUInfo returns the model name of the first CPU in a /proc/cpuinfo
// and the number of "processor" entries.
func ParseCPUInfo(b []byte) (model string, cores int) {
	for line := range bytes.Lines(b) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		switch string(bytes.TrimSpace(k)) {
		case "processor":
			cores++
		case "model name":
			if model == "" {
				model = string(bytes.TrimSpace(v))
			}
		}
	}
	return model, cores
}

// output runs a command briefly and returns the first line it printed on
// stdout or stderr (nginx and wrk print their versions on stderr and exit
// non-zero); empty when it could not run.
func output(name string, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, name, args...).CombinedOutput()
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// cpuMeter tells the CPU time other work on the machine used from the
// harness's own: the time all CPUs spent running tasks (/proc/stat) minus
// the CPU time of the harness and every child it has waited for.
type cpuMeter struct {
	tasks, total uint64        // jiffies (USER_HZ, like clockTick)
	ours         time.Duration // harness and reaped children
	ok           bool
}

func readCPUMeter() cpuMeter {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuMeter{}
	}
	tasks, total, err := ParseProcStat(b)
	if err != nil {
		return cpuMeter{}
	}
	ours, err := selfAndChildrenCPU()
	return cpuMeter{tasks: tasks, total: total, ours: ours, ok: err == nil}
}

// othersShare returns the share of all CPU time between m and later that
// went to work other than the harness's, or -1 when it is unknown. Children
// still running at the later reading count as other work.
func (m cpuMeter) othersShare(later cpuMeter) float64 {
	if !m.ok || !later.ok || later.total <= m.total {
		return -1
	}
	ours := float64(later.ours-m.ours) / float64(clockTick)
	others := max(0, float64(later.tasks-m.tasks)-ours)
	return others / float64(later.total-m.total)
}

// ParseProcStat returns, from the aggregate "cpu" line of /proc/stat, the
// jiffies spent running tasks (user, nice, system: what processes' utime
// and stime are charged from) and the total (those plus idle, iowait, irq,
// softirq and steal; the guest columns are already inside user and nice).
// Interrupt time is left out of tasks: loopback traffic is processed there
// and cannot be told apart by process.
func ParseProcStat(b []byte) (tasks, total uint64, err error) {
	for line := range bytes.Lines(b) {
		f := strings.Fields(string(line))
		if len(f) == 0 || f[0] != "cpu" {
			continue
		}
		if len(f) < 5 {
			return 0, 0, fmt.Errorf("proc stat: %d columns on the cpu line, want at least 4", len(f)-1)
		}
		for i, v := range f[1:min(len(f), 9)] {
			n, err := strconv.ParseUint(v, 10, 56) // ample for jiffies; the sums cannot overflow
			if err != nil {
				return 0, 0, fmt.Errorf("proc stat: %w", err)
			}
			total += n
			if i < 3 { // user, nice, system
				tasks += n
			}
		}
		return tasks, total, nil
	}
	return 0, 0, errors.New("proc stat: no aggregate cpu line")
}
