package harness

import (
	"strings"
	"testing"
)

// The fuzz targets check that no input makes a parser panic and that what
// a parser accepts is consistent. Each is seeded from its unit-test table.

func FuzzParseStatCPU(f *testing.F) {
	for _, c := range statCases {
		f.Add([]byte(c.stat))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = ParseStatCPU(b)
	})
}

func FuzzParseStatusBytes(f *testing.F) {
	for _, c := range statusCases {
		f.Add([]byte(c.status), c.key)
	}
	f.Fuzz(func(t *testing.T, b []byte, key string) {
		n, err := ParseStatusBytes(b, key)
		if err == nil && n%1024 != 0 {
			t.Errorf("ParseStatusBytes = %d, not a whole number of kB", n)
		}
	})
}

func FuzzParseCPUList(f *testing.F) {
	for _, c := range cpuListCases {
		f.Add(c.list)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cpus, err := ParseCPUList(s)
		if err == nil && len(cpus) == 0 {
			t.Errorf("ParseCPUList(%q) accepted no CPUs", s)
		}
	})
}

func FuzzParseProcStat(f *testing.F) {
	for _, c := range procStatCases {
		f.Add([]byte(c.stat))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tasks, total, err := ParseProcStat(b)
		if err == nil && tasks > total {
			t.Errorf("ParseProcStat: tasks %d > total %d", tasks, total)
		}
	})
}

func FuzzParseCPUInfo(f *testing.F) {
	f.Add([]byte("processor\t: 0\nmodel name\t: AMD EPYC\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		model, cores := ParseCPUInfo(b)
		if cores < 0 || strings.ContainsAny(model, "\n") {
			t.Errorf("ParseCPUInfo = %q, %d", model, cores)
		}
	})
}

func FuzzParseWrk(f *testing.F) {
	for _, c := range wrkCases {
		f.Add([]byte(c.out))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseWrk(b)
		if err == nil && r.Duration < 0 {
			t.Errorf("ParseWrk accepted a negative duration: %+v", r)
		}
	})
}

func FuzzParseFeatures(f *testing.F) {
	for _, c := range featureCases {
		f.Add([]byte(c.src))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fs, err := ParseFeatures(b)
		if err != nil {
			return
		}
		for _, x := range fs {
			if x.Name == "" || strings.ContainsAny(x.Name, " \t\n") {
				t.Errorf("ParseFeatures gave a bad name %q", x.Name)
			}
		}
	})
}
