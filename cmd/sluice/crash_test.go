package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/store"
)

// TestMain lets a test start this package's binary as a real process: with
// SLUICE_TEST_RUN_MAIN=1 the test binary is sluice itself.
func TestMain(m *testing.M) {
	if os.Getenv("SLUICE_TEST_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// gatewayProcess is sluice serve running as a child process.
type gatewayProcess struct {
	cmd *exec.Cmd
	url string
}

var listeningRE = regexp.MustCompile(`msg="sluice listening" addr=(http://\S+)`)

// startGateway runs `sluice serve --config path` and waits until it listens.
func startGateway(t *testing.T, path string) *gatewayProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "--config", path)
	cmd.Env = append(os.Environ(), "SLUICE_TEST_RUN_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() }) //nolint:errcheck // may be gone already
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr) //nolint:errcheck
	}()
	select {
	case url := <-found:
		return &gatewayProcess{cmd: cmd, url: url}
	case <-time.After(30 * time.Second):
		t.Fatal("the gateway did not start listening")
		return nil
	}
}

// TestCrashLosesAtMostTheLastFlushInterval kills the gateway (SIGKILL)
// under load and checks the request log: every request answered more than
// a flush interval (plus the time one batch takes to write) before the
// kill is in the store, and the database opens cleanly afterwards.
func TestCrashLosesAtMostTheLastFlushInterval(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills a gateway process under load")
	}
	const flush = 250 * time.Millisecond
	// slack covers writing one batch and the scheduling noise of a busy
	// 2-core machine; the guarantee measured is flush + slack.
	const slack = 750 * time.Millisecond
	dir := t.TempDir()
	path := filepath.Join(dir, "sluice.yaml")
	cfg := fmt.Sprintf("server: { listen: \"127.0.0.1:0\", data_dir: %q }\nmock: { enabled: true }\n"+
		"request_log: { flush_interval: %s }\nauth: { require_keys: false }\n", dir, flush)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	gw := startGateway(t, path)

	type answered struct {
		id string
		at time.Time
	}
	var (
		mu   sync.Mutex
		done []answered
	)
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 5 * time.Second}
			for ctx.Err() == nil {
				resp, err := client.Post(gw.url+"/v1/chat/completions", "application/json",
					strings.NewReader(`{"model":"mock/echo","messages":[{"role":"user","content":"count me"}]}`))
				if err != nil {
					return // the gateway is gone
				}
				io.Copy(io.Discard, resp.Body) //nolint:errcheck
				resp.Body.Close()
				if resp.StatusCode == 200 {
					mu.Lock()
					done = append(done, answered{resp.Header.Get("X-Request-Id"), time.Now()})
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(2 * time.Second)
	killed := time.Now()
	if err := gw.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	gw.cmd.Wait() //nolint:errcheck // killed on purpose
	stop()
	wg.Wait()

	db, err := store.Open(context.Background(), store.Config{Driver: "sqlite", DSN: filepath.Join(dir, "sluice.db")})
	if err != nil {
		t.Fatalf("the store does not open after a crash: %v", err)
	}
	defer db.Close()
	var mustHave, lost, recent int
	for _, a := range done {
		_, err := db.GetLog(context.Background(), a.id)
		switch {
		case err == nil:
		case a.at.Before(killed.Add(-flush - slack)):
			mustHave++
			lost++
			if lost <= 5 {
				t.Errorf("request %s answered %v before the kill is not in the store: %v", a.id, killed.Sub(a.at), err)
			}
			continue
		default:
			recent++
		}
		if a.at.Before(killed.Add(-flush - slack)) {
			mustHave++
		}
	}
	if mustHave < 100 {
		t.Fatalf("only %d requests answered well before the kill; the load did not run", mustHave)
	}
	t.Logf("%d requests answered; %d answered more than %v before the kill, %d of them lost; %d later ones not (yet) stored",
		len(done), mustHave, flush+slack, lost, recent)
}
