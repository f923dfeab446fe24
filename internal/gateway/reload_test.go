package gateway_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/gateway"
	"github.com/sluicehq/sluice/internal/mock"
)

// reloadConfig is a config whose chat-default goes to model MODEL of the
// mock at MOCK.
const reloadConfig = `
providers:
  - { name: oai, type: openai, base_url: "MOCK/v1", api_key: "sk-test" }
models:
  - name: chat-default
    targets: [ { provider: oai, model: MODEL } ]
`

func reloadText(mockURL, model string) string {
	return strings.NewReplacer("MOCK", mockURL, "MODEL", model).Replace(reloadConfig)
}

// streamChat sends a streaming chat request and reads the whole answer;
// it returns an error unless the answer is a 200 stream ending in [DONE].
func streamChat(client *http.Client, url string) error {
	resp, err := client.Post(url+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"chat-default","stream":true,"messages":[{"role":"user","content":"one two three four five six"}]}`))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	last := ""
	for sc.Scan() {
		if l := sc.Text(); l != "" {
			last = l
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if last != "data: [DONE]" {
		return fmt.Errorf("stream ended with %q, not [DONE]", last)
	}
	return nil
}

// TestReloadUnderStreamingLoadLosesNothing runs 200 concurrent streams
// (each about 300 ms long, started over the first 100 ms, so all are in
// flight together) while the config is reloaded six times, alternating
// between two upstream mocks: every stream completes with [DONE], and
// both mocks served traffic.
func TestReloadUnderStreamingLoadLosesNothing(t *testing.T) {
	opts := mock.Options{StreamChunks: 6, ChunkInterval: 50 * time.Millisecond}
	ma, urlA := startMock(t, opts)
	mb, urlB := startMock(t, opts)
	env := startEnv(t, reloadText(urlA, "model-a"))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	defer client.CloseIdleConnections()

	const n = 200
	errs := make(chan error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			time.Sleep(time.Duration(i) * time.Millisecond / 2)
			errs <- streamChat(client, env.url)
		}()
	}
	reloads := make(chan error, 1)
	go func() {
		<-start
		var err error
		for i := range 6 {
			time.Sleep(30 * time.Millisecond)
			url, model := urlB, "model-b"
			if i%2 == 1 {
				url, model = urlA, "model-a"
			}
			cfg, perr := config.Parse([]byte(completeConfig(t, reloadText(url, model))), "reload.yaml")
			if perr != nil {
				err = perr
				break
			}
			if err = env.gw.Reload(cfg); err != nil {
				break
			}
		}
		reloads <- err
	}()
	close(start)
	wg.Wait()
	close(errs)
	if err := <-reloads; err != nil {
		t.Fatalf("reload: %v", err)
	}
	failed := 0
	for err := range errs {
		if err != nil {
			failed++
			if failed <= 5 {
				t.Errorf("stream: %v", err)
			}
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d streams failed across the reloads", failed, n)
	}
	a, b := ma.Stats().Requests, mb.Stats().Requests
	if a+b != n || b == 0 {
		t.Errorf("mock A served %d, mock B %d; want %d in all, some on B", a, b, n)
	}
	t.Logf("mock A served %d streams, mock B %d", a, b)
}

// completeConfig adds startEnv's settings to a config text.
func completeConfig(t *testing.T, text string) string {
	return text + "\nserver: { data_dir: \"" + t.TempDir() + "\" }\nrequest_log: { flush_interval: 10ms }\nauth: { require_keys: false }\n"
}

// TestInFlightStreamFinishesOnItsConfig: a stream that started before a
// reload keeps its upstream to the end, and the next request uses the new
// config.
func TestInFlightStreamFinishesOnItsConfig(t *testing.T) {
	ma, urlA := startMock(t, mock.Options{StreamChunks: 5, ChunkInterval: 100 * time.Millisecond})
	mb, urlB := startMock(t, mock.Options{})
	env := startEnv(t, reloadText(urlA, "model-a"))
	done := make(chan error, 1)
	go func() { done <- streamChat(http.DefaultClient, env.url) }()
	for ma.Stats().Requests == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	env.reload(reloadText(urlB, "model-b"))
	if err := <-done; err != nil {
		t.Fatalf("the stream that started before the reload: %v", err)
	}
	resp, body := env.post("/v1/chat/completions", chatBody)
	if resp.StatusCode != 200 {
		t.Fatalf("after the reload: %d %s", resp.StatusCode, body)
	}
	if got := env.record(resp.Header.Get("X-Request-Id")).Model; got != "model-b" {
		t.Errorf("after the reload the model is %q, want model-b", got)
	}
	if a, b := ma.Stats().Requests, mb.Stats().Requests; a != 1 || b != 1 {
		t.Errorf("mock A served %d, mock B %d; want 1 each", a, b)
	}
}

// TestBadReloadKeepsTheOldConfig: a file that does not parse, one that
// fails validation (a route with a type error) and one the gateway cannot
// build are each rejected with the reason, and requests keep going to the
// running config.
func TestBadReloadKeepsTheOldConfig(t *testing.T) {
	_, url := startMock(t, mock.Options{})
	env := startEnv(t, reloadText(url, "model-a"))
	path := filepath.Join(t.TempDir(), "sluice.yaml")
	for _, tc := range []struct{ name, text, want string }{
		{"not YAML", "providers: [", "invalid YAML"},
		{"a route with a type error", completeConfig(t, reloadText(url, "model-b")+
			"routes:\n  - { name: r, when: 'metadata.tier > 2', model: chat-default }\n"),
			"routes[0].when: column 15 of the condition: invalid operation: > (mismatched types string and int)"},
		{"the mock switched on", completeConfig(t, reloadText(url, "model-b")+"mock: { enabled: true }\n"),
			"mock.enabled was switched on; restart"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(path, []byte(tc.text), 0o600); err != nil {
				t.Fatal(err)
			}
			err := env.gw.ReloadFile(path, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "the running config stays") {
				t.Fatalf("ReloadFile error %v, want one saying %q", err, tc.want)
			}
			resp, body := env.post("/v1/chat/completions", chatBody)
			if resp.StatusCode != 200 {
				t.Fatalf("after the bad reload: %d %s", resp.StatusCode, body)
			}
			if got := env.record(resp.Header.Get("X-Request-Id")).Model; got != "model-a" {
				t.Errorf("after the bad reload the model is %q, want model-a", got)
			}
		})
	}
	// A good file then applies.
	if err := os.WriteFile(path, []byte(completeConfig(t, reloadText(url, "model-c"))), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := env.gw.ReloadFile(path, nil); err != nil {
		t.Fatal(err)
	}
	resp, _ := env.post("/v1/chat/completions", chatBody)
	if got := env.record(resp.Header.Get("X-Request-Id")).Model; got != "model-c" {
		t.Errorf("after a good reload the model is %q, want model-c", got)
	}
}

// TestReloadWarnsAboutRestartOnlySettings: a changed listener is logged
// as needing a restart, and /v1/models shows the new virtual models.
func TestReloadWarnsAboutRestartOnlySettings(t *testing.T) {
	_, url := startMock(t, mock.Options{})
	env := startEnv(t, reloadText(url, "model-a"))
	text := reloadText(url, "model-a") + "  - name: brand-new\n    targets: [ { provider: oai, model: x } ]\n"
	cfg, err := config.Parse([]byte(text+"\nserver: { data_dir: \""+t.TempDir()+"\", listen: \"127.0.0.1:9\" }\nauth: { require_keys: false }\n"), "r.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.gw.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	if log := env.logText(); !strings.Contains(log, "apply only after a restart") || !strings.Contains(log, "sections=server,store,request_log") {
		t.Errorf("no restart warning naming server, store and request_log in the log:\n%s", log)
	}
	_, body := env.get("/v1/models")
	if !strings.Contains(string(body), `"brand-new"`) {
		t.Errorf("/v1/models after the reload lacks the new model: %s", body)
	}
}

// TestWatchConfigReloadsOnChange: with the file watched, a save (written
// in place, then replaced by a rename as editors do) reloads it.
func TestWatchConfigReloadsOnChange(t *testing.T) {
	_, url := startMock(t, mock.Options{})
	env := startEnv(t, reloadText(url, "model-a"))
	dir := t.TempDir()
	path := filepath.Join(dir, "sluice.yaml")
	write := func(model string) {
		tmp := filepath.Join(dir, ".sluice.yaml.tmp")
		if err := os.WriteFile(tmp, []byte(completeConfig(t, reloadText(url, model))), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	write("model-a")
	ctx, cancel := context.WithCancel(context.Background())
	reloaded := make(chan error, 10)
	stopped := make(chan error, 1)
	go func() {
		stopped <- gateway.WatchConfig(ctx, path, nil, func() { reloaded <- env.gw.ReloadFile(path, nil) })
	}()
	time.Sleep(50 * time.Millisecond) // let the watcher start
	for _, model := range []string{"model-b", "model-c"} {
		write(model)
		select {
		case err := <-reloaded:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no reload after writing %s", model)
		}
		resp, _ := env.post("/v1/chat/completions", chatBody)
		if got := env.record(resp.Header.Get("X-Request-Id")).Model; got != model {
			t.Errorf("after the change the model is %q, want %s", got, model)
		}
	}
	cancel()
	if err := <-stopped; err != nil {
		t.Errorf("WatchConfig: %v", err)
	}
}
