package harness

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// clockTick is the unit of utime and stime in /proc/PID/stat: USER_HZ, which
// Linux fixes at 100 on every architecture it reports it for.
const clockTick = 10 * time.Millisecond

// CPUTime returns the user plus system CPU time the process pid has used
// (its threads included, its children not).
func CPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("cpu time: %w", err)
	}
	ticks, _, err := ParseStatCPU(b)
	if err != nil {
		return 0, fmt.Errorf("cpu time of pid %d: %w", pid, err)
	}
	return time.Duration(ticks) * clockTick, nil
}

// ParseStatCPU returns, in clock ticks, utime+stime (own) and
// cutime+cstime (children waited for) from the contents of a /proc/PID/stat
// file. The command name (field 2) may hold spaces and parentheses, so
// fields are counted from the last ")".
func ParseStatCPU(stat []byte) (own, children uint64, err error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, errors.New("stat: no \")\" after the command name")
	}
	// Fields after ")" start at field 3 (state); utime, stime, cutime and
	// cstime are fields 14 to 17.
	f := bytes.Fields(stat[i+1:])
	if len(f) < 15 {
		return 0, 0, fmt.Errorf("stat: %d fields after the command name, want at least 15", len(f))
	}
	var n [4]uint64
	for k, name := range []string{"utime", "stime", "cutime", "cstime"} {
		if n[k], err = strconv.ParseUint(string(f[11+k]), 10, 64); err != nil {
			return 0, 0, fmt.Errorf("stat: %s: %w", name, err)
		}
	}
	return n[0] + n[1], n[2] + n[3], nil
}

// selfAndChildrenCPU is the CPU time of this process and every child it
// has waited for.
func selfAndChildrenCPU() (time.Duration, error) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, err
	}
	own, children, err := ParseStatCPU(b)
	return time.Duration(own+children) * clockTick, err
}

// Memory is a process's resident set: the current size and the peak
// (high-water mark) since it started, in bytes.
type Memory struct {
	RSS, Peak uint64
}

// MemoryOf reads VmRSS and VmHWM from /proc/PID/status.
func MemoryOf(pid int) (Memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, fmt.Errorf("memory: %w", err)
	}
	var m Memory
	if m.RSS, err = ParseStatusBytes(b, "VmRSS"); err != nil {
		return Memory{}, fmt.Errorf("memory of pid %d: %w", pid, err)
	}
	if m.Peak, err = ParseStatusBytes(b, "VmHWM"); err != nil {
		return Memory{}, fmt.Errorf("memory of pid %d: %w", pid, err)
	}
	return m, nil
}

// ParseStatusBytes returns the size in bytes of the field key ("VmHWM") of
// a /proc/PID/status file, whose sizes are written as "<n> kB".
func ParseStatusBytes(status []byte, key string) (uint64, error) {
	for line := range bytes.Lines(status) {
		name, rest, ok := bytes.Cut(line, []byte(":"))
		if !ok || string(name) != key {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("status: %s: want \"<n> kB\", got %q", key, bytes.TrimSpace(rest))
		}
		kb, err := strconv.ParseUint(string(f[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("status: %s: %w", key, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("status: no %s line", key)
}
