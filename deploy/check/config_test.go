package check

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// effectiveConfig is the part of `sluice config check --print` (defaults
// applied, secrets redacted) the deployment depends on.
type effectiveConfig struct {
	Server struct {
		Listen        string `json:"listen"`
		DataDir       string `json:"data_dir"`
		ShutdownGrace string `json:"shutdown_grace"`
		WatchConfig   bool   `json:"watch_config"`
	} `json:"server"`
	Store struct {
		Driver string `json:"driver"`
	} `json:"store"`
	Cluster struct {
		NodeID   string `json:"node_id"`
		RedisURL string `json:"redis_url"`
	} `json:"cluster"`
	Limits struct {
		Backend  string `json:"backend"`
		Replicas int    `json:"replicas"`
	} `json:"limits"`
	Metrics struct {
		Enabled bool `json:"enabled"`
	} `json:"metrics"`
	Providers []struct {
		Name string `json:"name"`
	} `json:"providers"`
}

// port is the listen address's port.
func (c *effectiveConfig) port(t *testing.T) int32 {
	t.Helper()
	_, p, err := net.SplitHostPort(c.Server.Listen)
	if err != nil {
		t.Fatalf("server.listen %q: %v", c.Server.Listen, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("server.listen %q: port: %v", c.Server.Listen, err)
	}
	return int32(n)
}

// shutdownGrace is server.shutdown_grace.
func (c *effectiveConfig) shutdownGrace(t *testing.T) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(c.Server.ShutdownGrace)
	if err != nil {
		t.Fatalf("server.shutdown_grace %q: %v", c.Server.ShutdownGrace, err)
	}
	return d
}

// checkConfig checks a config file's text with the sluice binary, with
// exactly env as the environment (plus PATH), and returns its effective
// config.
func checkConfig(t *testing.T, text string, env map[string]string) effectiveConfig {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sluice.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sluiceBin, "config", "check", "--print", path)
	cmd.Env = envList(env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sluice config check: %v\n%s\nconfig:\n%s", err, stderr.Bytes(), text)
	}
	var c effectiveConfig
	if err := yaml.Unmarshal(stdout.Bytes(), &c); err != nil {
		t.Fatalf("parsing the printed config: %v", err)
	}
	return c
}

// envList turns a map into an environment, with PATH kept.
func envList(env map[string]string) []string {
	out := []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// requiredVar finds ${VAR} references without a default.
var requiredVar = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// requiredVars lists the environment variables a config file cannot load
// without.
func requiredVars(text string) []string {
	seen := map[string]bool{}
	var vars []string
	for _, m := range requiredVar.FindAllStringSubmatch(text, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			vars = append(vars, m[1])
		}
	}
	sort.Strings(vars)
	return vars
}
