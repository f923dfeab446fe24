package harness

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"
)

// Env is what starting systems needs: binaries, the CPU layout, a scratch
// directory, and the process owner that stops everything at the end.
type Env struct {
	Sluice string // path of bin/sluice (the mock and the gateway)
	Self   string // path of the harness binary (its "goproxy" command is the baseline)
	Nginx  string // path of nginx; empty when it is not installed
	Wrk    string // path of wrk; empty when it is not installed
	Layout Layout
	Dir    string // scratch directory for configs, logs and data
	Procs  *Procs

	seq atomic.Int64 // numbers process names so logs are not overwritten
}

// MockMode is how the mock answers.
type MockMode struct {
	Name     string
	Latency  time.Duration // before the answer (streams: before the first chunk)
	Chunks   int           // content chunks per streamed answer
	Interval time.Duration // between streamed chunks
}

// The mock modes the phases use.
var (
	// ZeroLatency answers at once: the proxy's own cost dominates.
	ZeroLatency = MockMode{Name: "zero-latency", Chunks: 5}
	// Realistic is a model's pace: 300 ms to the first token, then 30
	// chunks 20 ms apart.
	Realistic = MockMode{Name: "realistic", Latency: 300 * time.Millisecond, Chunks: 30, Interval: 20 * time.Millisecond}
	// LongStream keeps streams open for about 90 s, a chunk a second, so
	// thousands can be held at once without the chunk rate itself
	// saturating a core.
	LongStream = MockMode{Name: "long-stream", Latency: 300 * time.Millisecond, Chunks: 90, Interval: time.Second}
)

// System is one row of the table: something that answers OpenAI chat
// requests on loopback, in front of the mock (or the mock itself).
type System struct {
	Name  string // short id, used by -only: direct, go-proxy, nginx, sluice-proxy, sluice-production
	Title string // row label
	// Config names the Sluice config template (configs/<Config>.yaml);
	// empty for the other systems.
	Config string
	// Features are the features Config declares.
	Features []Feature
	// Skip, when not empty, says why the system cannot run on this machine.
	Skip string
}

// Systems returns every system in table order, with Skip set for those
// this machine cannot run.
func Systems(e *Env) []System {
	ss := []System{
		{Name: "direct", Title: "direct to mock"},
		{Name: "go-proxy", Title: "Go httputil.ReverseProxy (baseline)"},
		{Name: "nginx", Title: "nginx proxy_pass"},
		{Name: "sluice-proxy", Title: "Sluice, proxy config", Config: "proxy"},
		{Name: "sluice-production", Title: "Sluice, production config", Config: "production"},
	}
	for i := range ss {
		if ss[i].Name == "nginx" && e.Nginx == "" {
			ss[i].Skip = "nginx is not installed"
		}
		if ss[i].Config != "" {
			if fs, err := ConfigFeatures(ss[i].Config); err != nil {
				ss[i].Skip = err.Error()
			} else {
				ss[i].Features = fs
			}
		}
	}
	return ss
}

// Stand is a mock with a system in front of it, ready for load.
type Stand struct {
	System  System
	BaseURL string // where clients send requests, without /v1
	SUT     *Proc  // the process under test: the proxy, or the mock for "direct"
	mock    *Proc
}

// Down stops the system and the mock.
func (s *Stand) Down() {
	if s.SUT != s.mock {
		s.SUT.Stop()
	}
	s.mock.Stop()
}

// Up starts a fresh mock in mode and a fresh instance of sys in front of it,
// waits until both are ready and checks that one chat request goes through.
func (e *Env) Up(ctx context.Context, sys System, mode MockMode) (*Stand, error) {
	mockAddr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	mock, err := e.Procs.Start(e.name("mock-"+mode.Name), e.Dir, "", "", []string{
		e.Sluice, "mock", "--listen", mockAddr,
		"--latency", mode.Latency.String(), "--chunks", strconv.Itoa(mode.Chunks), "--chunk-interval", mode.Interval.String(),
	}, nil)
	if err != nil {
		return nil, err
	}
	st := &Stand{System: sys, SUT: mock, mock: mock, BaseURL: "http://" + mockAddr}
	if err := mock.WaitReady(ctx, mockAddr, "", 15*time.Second); err != nil {
		st.Down()
		return nil, err
	}
	if sys.Name != "direct" {
		if err := e.startProxy(ctx, st, "http://"+mockAddr); err != nil {
			st.Down()
			return nil, err
		}
	}
	if err := Check(ctx, st.BaseURL, sys.Features); err != nil {
		st.Down()
		return nil, fmt.Errorf("%s: %w", sys.Name, err)
	}
	return st, nil
}

func (e *Env) startProxy(ctx context.Context, st *Stand, upstream string) error {
	addr, err := FreeAddr()
	if err != nil {
		return err
	}
	var argv []string
	readyPath := ""
	switch sys := st.System; {
	case sys.Name == "go-proxy":
		argv = []string{e.Self, "goproxy", "-listen", addr, "-upstream", upstream}
	case sys.Name == "nginx":
		dir, err := os.MkdirTemp(e.Dir, "nginx-")
		if err != nil {
			return fmt.Errorf("nginx: %w", err)
		}
		u, _ := url.Parse(upstream)
		conf, err := WriteNginxConfig(NginxConfig{Dir: dir, Listen: addr, Upstream: u.Host})
		if err != nil {
			return err
		}
		argv = []string{e.Nginx, "-e", "stderr", "-p", dir, "-c", conf}
	case sys.Config != "":
		dir, err := os.MkdirTemp(e.Dir, "sluice-data-")
		if err != nil {
			return fmt.Errorf("sluice: %w", err)
		}
		conf, features, err := RenderSluiceConfig(sys.Config, dir, SluiceConfig{
			Listen: addr, Upstream: upstream, DataDir: filepath.Join(dir, "data"), ClientKey: ClientKey,
		})
		if err != nil {
			return err
		}
		on := map[string]bool{}
		for _, f := range features {
			on[f.Name] = f.On
		}
		if on["key-auth"] {
			if err := ProvisionKey(ctx, conf, on["rate-limits"]); err != nil {
				return err
			}
		}
		argv = []string{e.Sluice, "serve", "--config", conf}
		readyPath = "/readyz"
	default:
		return fmt.Errorf("unknown system %q", sys.Name)
	}
	p, err := e.Procs.Start(e.name(st.System.Name), e.Dir, e.Layout.Taskset, e.Layout.SUTCPU, argv, nil)
	if err != nil {
		return err
	}
	st.SUT, st.BaseURL = p, "http://"+addr
	return p.WaitReady(ctx, addr, readyPath, 20*time.Second)
}

func (e *Env) name(base string) string {
	return fmt.Sprintf("%03d-%s", e.seq.Add(1), base)
}
