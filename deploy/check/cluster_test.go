package check

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Variables naming the test services, as in the main module's tests.
const (
	postgresEnv = "SLUICE_TEST_POSTGRES"
	redisEnv    = "SLUICE_TEST_REDIS"
)

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// testSchema creates a PostgreSQL schema of its own for the test, dropped
// at its end, and returns a DSN whose search_path is that schema.
func testSchema(t *testing.T, base string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to %s: %v", postgresEnv, err)
	}
	schema := "deploycheck_" + randomHex(8)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		conn.Close(ctx)
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s is not a URL", postgresEnv)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestClusterReplicas runs the Kubernetes ConfigMap's config as two
// replicas started at once on one PostgreSQL (they race for the
// migrations) and one Redis, as the Deployment does: both become ready, a
// key made through one replica's admin API is listed by the other's, and
// both stop cleanly on SIGTERM.
func TestClusterReplicas(t *testing.T) {
	pg, rd := os.Getenv(postgresEnv), os.Getenv(redisEnv)
	if pg == "" || rd == "" {
		t.Skipf("%s or %s is unset: set both (postgres://postgres@127.0.0.1:5432/test?sslmode=disable, redis://127.0.0.1:6379/0) to run the replicas against real services", postgresEnv, redisEnv)
	}
	m := loadManifests(t, false)
	text := m.ConfigMaps[0].Data["sluice.yaml"]
	// Keys of this test only, in the shared Redis.
	prefix := "sluicetest:" + t.Name() + ":" + randomHex(4) + ":"
	if !strings.Contains(text, "\nlimits:\n") {
		t.Fatal("the ConfigMap's config has no limits section")
	}
	text = strings.Replace(text, "\nlimits:\n", "\nlimits:\n  redis_prefix: '"+prefix+"rl:'\n", 1)
	text += "cache:\n  redis_prefix: '" + prefix + "cache:'\n"
	env := map[string]string{
		"SLUICE_DATABASE_URL": testSchema(t, pg),
		"SLUICE_REDIS_URL":    rd,
		"SLUICE_ADMIN_KEY":    "deploy-check-admin-" + randomHex(16),
		"SLUICE_MASTER_KEY":   randomHex(32),
		"OPENAI_API_KEY":      "sk-test", // never called: no request here reaches a provider
	}
	var replicas []*gateway
	for _, name := range []string{"sluice-0", "sluice-1"} {
		dataDir := t.TempDir()
		cfg := filepath.Join(t.TempDir(), "sluice.yaml")
		if err := os.WriteFile(cfg, []byte(strings.Replace(text, "/var/lib/sluice", dataDir, 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		e := map[string]string{"SLUICE_NODE_ID": name}
		for k, v := range env {
			e[k] = v
		}
		replicas = append(replicas, launchGateway(t, cfg, t.TempDir(), e))
	}
	for i, g := range replicas {
		g.waitListening(t)
		// The pod's name (SLUICE_NODE_ID) reaches cluster.node_id.
		code, body := g.do(t, "GET", "/readyz", "", "")
		var ready struct {
			Status   string   `json:"status"`
			Node     string   `json:"node"`
			Degraded []string `json:"degraded"`
		}
		want := fmt.Sprintf("sluice-%d", i)
		if code != 200 || json.Unmarshal([]byte(body), &ready) != nil || ready.Status != "ready" || ready.Node != want {
			t.Fatalf("GET /readyz = %d %s, want 200 ready on node %s\n%s", code, body, want, g.log())
		}
	}
	admin := env["SLUICE_ADMIN_KEY"]
	code, body := replicas[0].do(t, "POST", "/admin/v1/keys", admin, `{"name":"made-on-sluice-0"}`)
	var key struct {
		ID string `json:"id"`
	}
	if code != 201 || json.Unmarshal([]byte(body), &key) != nil || key.ID == "" {
		t.Fatalf("POST /admin/v1/keys on sluice-0 = %d %s", code, body)
	}
	code, body = replicas[1].do(t, "GET", "/admin/v1/keys", admin, "")
	if code != 200 || !strings.Contains(body, key.ID) {
		t.Errorf("GET /admin/v1/keys on sluice-1 = %d, without %s made on sluice-0: the store is not shared\n%.500s", code, key.ID, body)
	}
	for _, g := range replicas {
		g.stop(t)
	}
}
