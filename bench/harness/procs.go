package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is a child process the harness started: in a process group of its
// own (so Stop reaches anything it forks), killed if the harness dies, with
// stdout and stderr kept in a log file for error reports.
type Proc struct {
	Name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
	err  error         // exit status; valid once done is closed
}

// Procs owns every process the harness starts; StopAll stops those still
// running. The zero value is ready to use.
type Procs struct {
	mu    sync.Mutex
	procs []*Proc
}

// Start runs argv as name, pinned to the CPU list cpus with taskset when
// both are non-empty, logging to dir/name.log. The process is not waited
// for: use WaitReady.
func (ps *Procs) Start(name, dir, taskset, cpus string, argv []string, env []string) (*Proc, error) {
	if taskset != "" && cpus != "" {
		argv = append([]string{taskset, "-c", cpus}, argv...)
	}
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	ps.mu.Lock()
	ps.procs = append(ps.procs, p)
	ps.mu.Unlock()
	return p, nil
}

// StopAll stops every process still running, in reverse start order.
func (ps *Procs) StopAll() {
	ps.mu.Lock()
	procs := ps.procs
	ps.procs = nil
	ps.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].Stop()
	}
}

// PID is the process's id. taskset execs its command, so this is the id of
// the program under test itself.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM to the process group, then SIGKILL after 5s, and
// waits for the process to exit. Calling it again is harmless.
func (p *Proc) Stop() {
	if p.Exited() {
		return
	}
	pgid := -p.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-p.done
	}
	// A graceful exit may leave stragglers in the group; none may outlive us.
	_ = syscall.Kill(pgid, syscall.SIGKILL)
}

// LogTail returns the last n bytes of the process's output, for errors.
func (p *Proc) LogTail(n int) string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return ""
	}
	if len(b) > n {
		b = b[len(b)-n:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return strings.TrimSpace(string(b))
}

// WaitReady polls until the process accepts connections on addr and, when
// path is not empty, answers GET path with 200. It fails when the process
// exits, after timeout, or when ctx ends.
func (p *Proc) WaitReady(ctx context.Context, addr, path string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	var last error
	for {
		if p.Exited() {
			return fmt.Errorf("%s exited before it was ready (%v): %s", p.Name, p.err, p.LogTail(800))
		}
		last = probe(ctx, client, addr, path)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%s not ready after %v: %w", p.Name, timeout, last)
			}
			return ctx.Err()
		case <-p.done:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func probe(ctx context.Context, client *http.Client, addr, path string) error {
	if path == "" {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return nil
}

// FreeAddr returns a loopback address with a port that was free a moment
// ago: it listens on 127.0.0.1:0, reads the port and closes the listener.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}
