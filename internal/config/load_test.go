package config

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/sluicehq/sluice/internal/provider"
)

// TestParseExample loads the config from the issue and checks what the
// gateway will read from it, defaults included.
func TestParseExample(t *testing.T) {
	data, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := parse(data, "example.yaml", lookupIn(map[string]string{"MOCK_KEY": "sk-mock"}))
	if err != nil {
		t.Fatal(err)
	}
	wantRetry := Retry{MaxAttempts: 1, Backoff: "exponential", Delay: Duration(250 * time.Millisecond),
		MaxDelay: Duration(10 * time.Second), Jitter: true, MaxRetryAfter: Duration(30 * time.Second)}
	wantProvider := func(name, typ, base string) Provider {
		return Provider{Name: name, Type: typ, BaseURL: base, APIKey: "sk-mock", Timeout: defaultProviderTimeout}
	}
	want := &Config{
		Server: Server{
			Listen: "127.0.0.1:8080", MaxBodyBytes: 10485760, ReadHeaderTimeout: defaultReadHeaderTimeout,
			IdleTimeout: defaultIdleTimeout, ShutdownGrace: defaultShutdownGrace, DataDir: "./data",
		},
		Log: Log{Level: "info", Format: "text"},
		Providers: []Provider{
			wantProvider("mock-a", "openai", "http://127.0.0.1:9101/v1"),
			wantProvider("claude", "anthropic", "http://127.0.0.1:9102"),
			wantProvider("gem", "gemini", "http://127.0.0.1:9103"),
		},
		Models: []Model{{
			Name: "chat-default", Strategy: "weighted",
			Targets: []Target{{Provider: "mock-a", Model: "gpt-4o-mini", Weight: 1}},
			Retry:   wantRetry,
		}},
		Routing: Routing{Retry: wantRetry,
			Breaker: Breaker{Enabled: true, ConsecutiveFailures: 5, ErrorRate: 0.5, Window: Duration(time.Minute),
				MinRequests: 20, Cooldown: Duration(30 * time.Second), HalfOpenProbes: 1},
			LeastLatency: LeastLatency{Decay: 0.3, Explore: 0.05}},
		Store: Store{Driver: "sqlite", DSN: "data/sluice.db"},
		RequestLog: RequestLog{
			Enabled: true, QueueSize: defaultLogQueueSize, BatchSize: defaultLogBatchSize,
			FlushInterval: defaultLogFlushInterval, WriteTimeout: defaultLogWriteTimeout,
			RetryInterval: defaultLogRetryInterval,
			Retention:     Retention{MaxAge: defaultLogMaxAge},
			Payloads:      Payloads{MaxBytes: defaultPayloadMaxBytes},
			Export: Export{Webhook: Webhook{BatchSize: defaultWebhookBatchSize,
				FlushInterval: defaultWebhookFlush, MaxRetries: defaultWebhookRetries}},
		},
		Auth: Auth{RequireKeys: true, KeyRefresh: defaultKeyRefresh, FailedPerMinute: defaultFailedPerMinute,
			Spike: Spike{Factor: defaultSpikeFactor, Window: defaultSpikeWindow, Baseline: defaultSpikeBaseline,
				MinRequests: defaultSpikeMinRequests, Cooldown: defaultSpikeCooldown}},
		Limits: Limits{Backend: "memory", RedisPrefix: "sluice:", OnRedisError: "local", Replicas: 1,
			BurstPercent: 2, TokenBurstPercent: 25, Window: Duration(time.Minute)},
		Budgets: Budgets{AlertPercent: defaultBudgetAlertPercent, FlushInterval: defaultBudgetFlushInterval},
		Cache: Cache{TTL: defaultCacheTTL, MaxEntryBytes: defaultCacheMaxEntryBytes, Statuses: []int{200},
			Backend: CacheMemory, MaxBytes: defaultCacheMaxBytes, RedisPrefix: defaultCacheRedisPrefix,
			Coalesce: Coalesce{Enabled: true, MaxWaiters: defaultCoalesceWaiters, Timeout: defaultCoalesceTimeout},
			Semantic: Semantic{Input: SemanticLastUser, Threshold: defaultSemanticThreshold,
				MaxTemperature: defaultSemanticMaxTemp, Timeout: defaultSemanticTimeout, ExactLimit: defaultSemanticExactLimit}},
		Metrics: Metrics{Enabled: true},
		Tracing: Tracing{ServiceName: "sluice", SampleRatio: 1},
		Path:    "example.yaml",
	}
	if diff := cmp.Diff(want, c, cmp.AllowUnexported(Config{}), ignoreSource); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if p := c.ProviderByName("claude"); p == nil || p != &c.Providers[1] {
		t.Errorf("ProviderByName(claude) = %p; want %p", p, &c.Providers[1])
	}
	if p := c.ProviderByName("mock"); p != nil {
		t.Errorf("ProviderByName(mock) = %+v; want nil", p)
	}
}

// ignoreSource leaves the position bookkeeping out of Config comparisons.
var ignoreSource = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".src" }, cmp.Ignore())

// TestParseGolden parses each sample file and compares the effective
// config, and its Redacted form, with golden files (as parsed JSON and
// YAML, not bytes). Regenerate with -update.
func TestParseGolden(t *testing.T) {
	for _, name := range []string{"example", "minimal", "full"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile("testdata/" + name + ".yaml")
			if err != nil {
				t.Fatal(err)
			}
			c, err := parse(data, name+".yaml", lookupIn(testEnv))
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(c, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			compareGolden(t, "testdata/"+name+".golden.json", got, json.Unmarshal)
			red, err := c.Redacted()
			if err != nil {
				t.Fatal(err)
			}
			compareGolden(t, "testdata/"+name+".redacted.yaml", red, yaml.Unmarshal)
		})
	}
}

// compareGolden compares got with the golden file after decoding both with
// decode, or rewrites the file under -update.
func compareGolden(t *testing.T, path string, got []byte, decode func([]byte, any) error) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	wantData, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	var want, have any
	if err := decode(wantData, &want); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if err := decode(got, &have); err != nil {
		t.Fatalf("output: %v", err)
	}
	if diff := cmp.Diff(want, have); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

// TestParseFullKeepsExplicitZeros checks that a zero written in the file
// is kept, while a missing key takes its default.
func TestParseFullKeepsExplicitZeros(t *testing.T) {
	data, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := parse(data, "full.yaml", lookupIn(testEnv))
	if err != nil {
		t.Fatal(err)
	}
	got := []int64{int64(c.Server.ShutdownGrace), int64(c.Models[0].Targets[2].Weight), int64(c.Models[0].Targets[1].Weight)}
	if diff := cmp.Diff([]int64{0, 0, 1}, got); diff != "" {
		t.Errorf("shutdown_grace, explicit weight 0, default weight (-want +got):\n%s", diff)
	}
	// ApplyDefaults again must not change anything.
	before, _ := json.Marshal(c)
	c.ApplyDefaults()
	after, _ := json.Marshal(c)
	if diff := cmp.Diff(string(before), string(after)); diff != "" {
		t.Errorf("ApplyDefaults is not idempotent (-before +after):\n%s", diff)
	}
}

// TestParseEmpty checks that an empty document is every default.
func TestParseEmpty(t *testing.T) {
	for _, src := range []string{"", "# nothing\n", "---\n", "~\n"} {
		c, err := parse([]byte(src), "empty.yaml", lookupIn(nil))
		if err != nil {
			t.Fatalf("parse(%q): %v", src, err)
		}
		if c.Server.Listen != defaultListen || c.Log.Level != "info" || c.Mock.Enabled {
			t.Errorf("parse(%q) = %+v; want defaults", src, c)
		}
	}
}

func TestLoad(t *testing.T) {
	t.Setenv("MOCK_KEY", "sk-from-env")
	path := filepath.Join(t.TempDir(), "sluice.yaml")
	data, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Path != path || c.Providers[0].APIKey.Value() != "sk-from-env" {
		t.Errorf("Load: Path = %q, key from env = %v; want %q, true", c.Path, c.Providers[0].APIKey.Value() == "sk-from-env", path)
	}

	if err := os.WriteFile(path, []byte("server:\n  lisen: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path)
	if want := path + ":2: server.lisen: unknown key (did you mean listen?)"; err == nil || err.Error() != want {
		t.Errorf("Load(bad) = %v; want %s", err, want)
	}

	_, err = Load(filepath.Join(t.TempDir(), "missing.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v; want fs.ErrNotExist", err)
	}
}

// TestParseUsesProcessEnvironment checks that Parse reads os environment.
func TestParseUsesProcessEnvironment(t *testing.T) {
	t.Setenv("SLUICE_TEST_LEVEL", "debug")
	c, err := Parse([]byte("log: {level: \"${SLUICE_TEST_LEVEL}\"}\n"), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Log.Level != "debug" || c.Path != "p.yaml" {
		t.Errorf("level %q, path %q; want debug, p.yaml", c.Log.Level, c.Path)
	}
}

// TestDocsExamples checks that every YAML example in
// docs/configuration.md loads, and that its catalog table matches
// provider.Kinds.
func TestDocsExamples(t *testing.T) {
	data, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(doc, -1)
	if len(blocks) < 2 {
		t.Fatalf("found %d yaml examples; want at least 2", len(blocks))
	}
	for i, b := range blocks {
		if strings.Contains(b[1], "# fragment") {
			continue
		}
		if _, err := parse([]byte(b[1]), "example", lookupIn(with(map[string]string{"AZURE_OPENAI_API_KEY": "x", "CLAUDE_KEY": "x",
			"SLUICE_DATABASE_URL": "postgres://sluice@db.internal/sluice", "LOG_SINK_TOKEN": "x",
			"SLUICE_REDIS_URL": "redis://cache.internal:6379/0"}))); err != nil {
			t.Errorf("example %d: %v", i+1, err)
		}
	}
	for _, k := range provider.Kinds {
		row := "| `" + k.Type + "` | " + k.Wire + " |"
		if !strings.Contains(doc, row) {
			t.Errorf("catalog table lacks a row starting %q", row)
		}
	}
}
