package check

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// gateway is a running sluice serve process.
type gateway struct {
	cmd  *exec.Cmd
	url  string // http://127.0.0.1:PORT
	mu   sync.Mutex
	logs strings.Builder // everything it wrote to stderr
	addr chan string     // the address from its "sluice listening" line
	done chan struct{}   // closed when the process has exited
	err  error           // its exit status, once done is closed
}

// startGateway runs `sluice serve --config path --listen 127.0.0.1:0` in
// dir with exactly env, and waits until it listens. The config must log
// in JSON. The process is killed at the test's end if still running.
func startGateway(t *testing.T, path, dir string, env map[string]string) *gateway {
	t.Helper()
	g := launchGateway(t, path, dir, env)
	g.waitListening(t)
	return g
}

// launchGateway starts the process without waiting for it to listen.
func launchGateway(t *testing.T, path, dir string, env map[string]string) *gateway {
	t.Helper()
	g := &gateway{done: make(chan struct{}), addr: make(chan string, 1)}
	g.cmd = exec.Command(sluiceBin, "serve", "--config", path, "--listen", "127.0.0.1:0")
	g.cmd.Dir = dir
	g.cmd.Env = envList(env)
	stderr, err := g.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := g.cmd.Start(); err != nil {
		t.Fatalf("starting sluice: %v", err)
	}
	t.Cleanup(func() {
		select {
		case <-g.done:
		default:
			g.cmd.Process.Kill()
			<-g.done
		}
	})
	go g.readLog(stderr)
	return g
}

// waitListening waits for the "sluice listening" line and keeps its
// address.
func (g *gateway) waitListening(t *testing.T) {
	t.Helper()
	select {
	case a := <-g.addr:
		g.url = a
	case <-g.done:
		t.Fatalf("sluice exited before listening: %v\n%s", g.err, g.log())
	case <-time.After(90 * time.Second):
		t.Fatalf("sluice did not listen within 90s\n%s", g.log())
	}
}

// readLog keeps the process's log and sends the address from its
// "sluice listening" line; it reports the exit on g.done.
func (g *gateway) readLog(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		g.mu.Lock()
		g.logs.WriteString(line + "\n")
		g.mu.Unlock()
		var rec struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "sluice listening" {
			select {
			case g.addr <- rec.Addr:
			default:
			}
		}
	}
	g.err = g.cmd.Wait()
	close(g.done)
}

// log returns what the process has logged so far.
func (g *gateway) log() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.logs.String()
}

// stop sends SIGTERM, as the kubelet does after preStop, and expects a
// clean exit well within the shutdown grace.
func (g *gateway) stop(t *testing.T) {
	t.Helper()
	if err := g.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-g.done:
		if g.err != nil {
			t.Errorf("sluice exited with %v after SIGTERM\n%s", g.err, g.log())
		}
	case <-time.After(45 * time.Second):
		t.Errorf("sluice still running 45s after SIGTERM\n%s", g.log())
	}
}

// do requests path with an optional bearer token and returns the status
// and body.
func (g *gateway) do(t *testing.T, method, path, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, g.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading: %v", method, path, err)
	}
	return resp.StatusCode, string(b)
}
