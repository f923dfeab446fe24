package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestRateLimitAcrossThreeProcessesSharingRedis is the check:
// three `sluice serve` processes share one SQLite store (holding a key of
// 300 requests per 3s window) and one Redis, and 12 clients hammer all
// three at once. Once the burst is spent (the first second), any 3s admit
// 300 ± 2 % in total, as if there were one gateway.
func TestRateLimitAcrossThreeProcessesSharingRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three gateway processes and hammers them for 4s")
	}
	url := os.Getenv("SLUICE_TEST_REDIS")
	if url == "" {
		t.Skip("SLUICE_TEST_REDIS is unset (e.g. redis://127.0.0.1:6379/0): skipping the shared-Redis test")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("SLUICE_TEST_REDIS: %v", err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("SLUICE_TEST_REDIS is set but Redis does not answer: %v", err)
	}
	var id [8]byte
	rand.Read(id[:])
	prefix := "sluice-test:limits:" + hex.EncodeToString(id[:]) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
	})

	const (
		limit  = 300
		window = 3 * time.Second
		warmup = time.Second
	)
	dir := t.TempDir()
	path := filepath.Join(dir, "sluice.yaml")
	cfg := fmt.Sprintf("server: { listen: \"127.0.0.1:0\", data_dir: %q }\nmock: { enabled: true }\n"+
		"request_log: { enabled: false }\nmetrics: { enabled: false }\n"+
		"limits: { backend: redis, redis_url: %q, redis_prefix: %q, window: %s }\n", dir, url, prefix, window)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	secret, _, err := runArgs(t, "keys", "create", "--config", path, "--name", "shared", "--rpm", fmt.Sprint(limit))
	if err != nil {
		t.Fatal(err)
	}
	secret = strings.TrimSpace(secret)
	var urls []string
	for range 3 {
		urls = append(urls, startGateway(t, path).url)
	}

	start := time.Now()
	stop := start.Add(warmup + window)
	var (
		mu      sync.Mutex
		times   []time.Time
		refused int
		perGW   = make([]int, len(urls))
		wg      sync.WaitGroup
	)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 12}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gw := i % len(urls)
			for time.Now().Before(stop) {
				req, _ := http.NewRequest(http.MethodPost, urls[gw]+"/v1/chat/completions",
					strings.NewReader(`{"model":"mock/echo","messages":[{"role":"user","content":"hi"}]}`))
				req.Header.Set("Authorization", "Bearer "+secret)
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body) //nolint:errcheck
				resp.Body.Close()
				at := time.Now()
				mu.Lock()
				switch resp.StatusCode {
				case 200:
					times = append(times, at)
					perGW[gw]++
				case 429:
					refused++
				default:
					t.Errorf("gateway %d: status %d", gw, resp.StatusCode)
				}
				mu.Unlock()
				if resp.StatusCode == 429 {
					time.Sleep(2 * time.Millisecond) // spare the shared CPU
				}
			}
		}()
	}
	wg.Wait()
	from, to := start.Add(warmup), start.Add(warmup+window)
	n := 0
	for _, at := range times {
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	t.Logf("%d answers in all (per gateway %v), %d refusals; %d admitted in the %s after the first %s, want %d ± %d",
		len(times), perGW, refused, n, window, warmup, limit, limit/50)
	if n < limit-limit/50 || n > limit+limit/50 {
		t.Errorf("admitted %d in %s across three gateways, want %d ± %d", n, window, limit, limit/50)
	}
	for i, c := range perGW {
		if c == 0 {
			t.Errorf("gateway %d admitted nothing: the test did not exercise it", i)
		}
	}
}
