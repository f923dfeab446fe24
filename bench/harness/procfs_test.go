package harness

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var statCases = []struct {
	name                string
	stat                string
	wantOwn, wantChilds uint64
	wantErr             bool
}{
	{"plain", "1234 (sluice) S 1 1234 1234 0 -1 4194560 2000 0 0 0 150 25 40 2 20 0 8 0 100 1000000 500 18446744073709551615", 175, 42, false},
	{"name with spaces and parens", "42 (a ) b (c)) R 1 42 42 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 5", 10, 0, false},
	{"no closing paren", "42 (sluice S 1 2 3", 0, 0, true},
	{"too few fields", "42 (sluice) S 1 2 3", 0, 0, true},
	{"utime not a number", "42 (s) S 1 42 42 0 -1 0 0 0 0 0 x 3 0 0 0", 0, 0, true},
	{"cstime not a number", "42 (s) S 1 42 42 0 -1 0 0 0 0 0 1 3 0 y 0", 0, 0, true},
}

func TestParseStatCPU(t *testing.T) {
	for _, tt := range statCases {
		t.Run(tt.name, func(t *testing.T) {
			own, children, err := ParseStatCPU([]byte(tt.stat))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if own != tt.wantOwn || children != tt.wantChilds {
				t.Errorf("ticks = %d own, %d children; want %d, %d", own, children, tt.wantOwn, tt.wantChilds)
			}
		})
	}
}

func TestCPUTimeOfSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc on this system")
	}
	if _, err := CPUTime(os.Getpid()); err != nil {
		t.Fatalf("CPUTime(self): %v", err)
	}
	m, err := MemoryOf(os.Getpid())
	if err != nil {
		t.Fatalf("MemoryOf(self): %v", err)
	}
	if m.RSS == 0 || m.Peak < m.RSS {
		t.Errorf("MemoryOf(self) = %+v, want 0 < RSS <= Peak", m)
	}
}

const statusSample = `Name:	sluice
State:	S (sleeping)
VmPeak:	 1234568 kB
VmHWM:	   20480 kB
VmRSS:	   10240 kB
Threads:	8
`

var statusCases = []struct {
	name    string
	status  string
	key     string
	want    uint64
	wantErr bool
}{
	{"peak", statusSample, "VmHWM", 20480 * 1024, false},
	{"current", statusSample, "VmRSS", 10240 * 1024, false},
	{"prefix of another key does not match", statusSample, "VmP", 0, true},
	{"missing", "Name:\tx\n", "VmHWM", 0, true},
	{"wrong unit", "VmHWM:\t20 MB\n", "VmHWM", 0, true},
	{"not a number", "VmHWM:\tlots kB\n", "VmHWM", 0, true},
	{"meminfo", "MemTotal:       24684136 kB\nMemFree: 1 kB\n", "MemTotal", 24684136 * 1024, false},
}

func TestParseStatusBytes(t *testing.T) {
	for _, tt := range statusCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStatusBytes([]byte(tt.status), tt.key)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("bytes = %d, want %d", got, tt.want)
			}
		})
	}
}

var cpuListCases = []struct {
	name    string
	list    string
	want    []int
	wantErr bool
}{
	{"single", "0", []int{0}, false},
	{"range", "0-1", []int{0, 1}, false},
	{"mixed", "0,2-4,7", []int{0, 2, 3, 4, 7}, false},
	{"backwards range", "3-1", nil, true},
	{"garbage", "a-b", nil, true},
	{"beyond any machine", "0-999999999", nil, true},
	{"negative", "-1", nil, true},
	{"empty", "", nil, true},
}

func TestParseCPUList(t *testing.T) {
	for _, tt := range cpuListCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCPUList(tt.list)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseCPUList(%q) (-want +got):\n%s", tt.list, diff)
			}
		})
	}
}

func TestParseCPUInfo(t *testing.T) {
	info := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n"
	type result struct {
		Model string
		Cores int
	}
	model, cores := ParseCPUInfo([]byte(info))
	if diff := cmp.Diff(result{"AMD EPYC 7B13", 2}, result{model, cores}); diff != "" {
		t.Errorf("ParseCPUInfo (-want +got):\n%s", diff)
	}
}

var procStatCases = []struct {
	name         string
	stat         string
	tasks, total uint64
	wantErr      bool
}{
	{"aggregate line", "cpu  100 5 50 800 45 7 30 3 20 1\ncpu0 50 2 25 400 20 0 0 0 0 0\n", 155, 1040, false},
	{"old kernel with four columns", "cpu  100 5 50 800\n", 155, 955, false},
	{"too few columns", "cpu  100 5 50\n", 0, 0, true},
	{"per-cpu lines only", "cpu0 50 2 25 400 20 0 0 0 0 0\n", 0, 0, true},
	{"bad number", "cpu  1 2 x 4 5\n", 0, 0, true},
}

func TestParseProcStat(t *testing.T) {
	for _, tt := range procStatCases {
		t.Run(tt.name, func(t *testing.T) {
			tasks, total, err := ParseProcStat([]byte(tt.stat))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tasks != tt.tasks || total != tt.total {
				t.Errorf("tasks, total = %d, %d, want %d, %d", tasks, total, tt.tasks, tt.total)
			}
		})
	}
}
