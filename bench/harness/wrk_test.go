package harness

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var wrkCases = []struct {
	name    string
	out     string
	want    WrkResult
	wantErr bool
}{
	{
		name: "summary among wrk's own output",
		out: "Running 10s test @ http://127.0.0.1:1/v1/chat/completions\n  1 threads and 64 connections\n" +
			"  120000 requests in 10.00s, 80.00MB read\nRequests/sec:  12000.00\n" +
			"sluicebench-wrk: requests=120000 duration_us=10000000 connect=0 read=1 write=2 timeout=3 status=4\n",
		want: WrkResult{Requests: 120000, Duration: 10 * time.Second, Read: 1, Write: 2, Timeout: 3, Non2xx: 4},
	},
	{name: "no summary", out: "Running 10s test\n", wantErr: true},
	{name: "missing field", out: "sluicebench-wrk: requests=1 duration_us=1 connect=0 read=0 write=0 timeout=0\n", wantErr: true},
	{name: "negative count", out: "sluicebench-wrk: requests=-1 duration_us=1 connect=0 read=0 write=0 timeout=0 status=0\n", wantErr: true},
	{name: "not a number", out: "sluicebench-wrk: requests=many duration_us=1 connect=0 read=0 write=0 timeout=0 status=0\n", wantErr: true},
}

func TestParseWrk(t *testing.T) {
	for _, tt := range wrkCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseWrk([]byte(tt.out))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseWrk (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWrkResultFigures(t *testing.T) {
	r := WrkResult{Requests: 30000, Duration: 3 * time.Second, Connect: 1, Read: 2, Write: 3, Timeout: 4, Non2xx: 5}
	type figures struct {
		RPS    float64
		Errors int
	}
	if diff := cmp.Diff(figures{10000, 15}, figures{r.RPS(), r.Errors()}); diff != "" {
		t.Errorf("figures (-want +got):\n%s", diff)
	}
	if got := (WrkResult{}).RPS(); got != 0 {
		t.Errorf("RPS of an empty run = %v, want 0", got)
	}
}

func TestLuaLongString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", `{"a":1}`, `[[{"a":1}]]`},
		{"closing bracket inside", `x]]y`, `[=[x]]y]=]`},
		{"both levels inside", `x]]y]=]z`, `[==[x]]y]=]z]==]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := luaLongString(tt.in); got != tt.want {
				t.Errorf("luaLongString(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestWrkScript(t *testing.T) {
	s := WrkScript([]byte(`{"model":"bench"}`))
	for _, want := range []string{
		`wrk.method = "POST"`,
		`wrk.body = [[{"model":"bench"}]]`,
		`wrk.headers[ [[Content-Type]] ] = [[application/json]]`,
		`wrk.headers[ [[Authorization]] ] = [[Bearer ` + ClientKey + `]]`,
		`function done(summary, latency, requests)`,
		wrkPrefix,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q:\n%s", want, s)
		}
	}
	if s != WrkScript([]byte(`{"model":"bench"}`)) {
		t.Error("WrkScript is not deterministic")
	}
}
