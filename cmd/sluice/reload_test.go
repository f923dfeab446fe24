package main

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// reloadYAML is a config with the built-in mock; EXTRA adds models.
const reloadYAML = `
server: { listen: "127.0.0.1:0", data_dir: "DATA" }
auth: { require_keys: false }
mock: { enabled: true }
models:
  - name: chat-default
    targets: [ { provider: mock, model: echo } ]
EXTRA`

// TestSIGHUPReloadsTheConfigFile runs sluice serve as a process: SIGHUP
// with a broken file logs the reason and keeps serving; SIGHUP with a good
// file applies it (a new virtual model answers).
func TestSIGHUPReloadsTheConfigFile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "sluice.yaml")
	write := func(extra string) {
		text := strings.NewReplacer("DATA", filepath.Join(dir, "data"), "EXTRA", extra).Replace(reloadYAML)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("")
	cmd := exec.Command(os.Args[0], "serve", "--config", path)
	cmd.Env = append(os.Environ(), "SLUICE_TEST_RUN_MAIN=1", "SLUICE_ADMIN_KEY=test-admin-key-0123456789")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() }) //nolint:errcheck // may be gone already
	var mu sync.Mutex
	var lines []string
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			lines = append(lines, sc.Text())
			mu.Unlock()
		}
	}()
	// waitLine waits for a log line containing s, after the first skip lines.
	waitLine := func(s string, skip int) (string, int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			for i := skip; i < len(lines); i++ {
				if strings.Contains(lines[i], s) {
					l := lines[i]
					mu.Unlock()
					return l, i + 1
				}
			}
			mu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("no log line with %q; the log:\n%s", s, strings.Join(lines, "\n"))
		return "", 0
	}
	line, seen := waitLine(`msg="sluice listening"`, 0)
	m := listeningRE.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no address in %q", line)
	}
	url := m[1]
	status := func(model string) int {
		t.Helper()
		resp, err := http.Post(url+"/v1/chat/completions", "application/json",
			strings.NewReader(`{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// Without its handler, SIGHUP would end the process.
	_, seen = waitLine(`SIGHUP reloads the config file`, seen)
	if got := status("added"); got != 404 {
		t.Fatalf("model added before any reload: %d, want 404", got)
	}

	write("routes:\n  - { name: r, when: 'metadata.tier > 2', model: chat-default }\n")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	line, seen = waitLine(`config reload rejected`, seen)
	if !strings.Contains(line, "routes[0].when") || !strings.Contains(line, "mismatched types string and int") {
		t.Errorf("the rejection does not give the reason: %s", line)
	}
	if got := status("chat-default"); got != 200 {
		t.Errorf("after a rejected reload: %d, want 200", got)
	}

	write("  - name: added\n    targets: [ { provider: mock, model: echo } ]\n")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLine(`msg="config reloaded"`, seen)
	if got := status("added"); got != 200 {
		t.Errorf("model added by the reload: %d, want 200", got)
	}
}
