package gateway_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/mock"
	"github.com/sluicehq/sluice/internal/vault"
)

// clusterConfig is one replica of a cluster on the PostgreSQL DSN; the
// periodic refresh is a minute, so only a notification can bring a
// change made through the other replica within the test's second.
const clusterConfig = `
server: { max_body_bytes: 65536, data_dir: "DATADIR" }
log: { level: debug }
request_log: { flush_interval: 10ms }
auth: { require_keys: true, key_refresh: 1m, failed_per_minute: 0 }
store: { driver: postgres, dsn: "DSN" }
cluster: { node_id: "NODE" }
providers:
  - { name: oai, type: openai, base_url: "MOCK/v1", api_key: "sk-config-oai-secret" }
models:
  - name: chat-default
    targets: [ { provider: oai, model: gpt-4o-mini } ]
`

// newReplica starts a gateway named node on the store dsn, with its own
// mock provider, data directory and vault v.
func newReplica(t *testing.T, dsn, node string, v *vault.Vault) *testEnv {
	t.Helper()
	m := mock.New(mock.Options{})
	ms := httptest.NewServer(m)
	t.Cleanup(ms.Close)
	text := strings.NewReplacer("MOCK", ms.URL, "DATADIR", t.TempDir(), "DSN", dsn, "NODE", node).Replace(clusterConfig)
	cfg, err := config.Parse([]byte(text), node+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := serveConfig(t, cfg, v, node)
	env.mock, env.mockURL = m, ms.URL
	return env
}

// newCluster starts two replicas, a and b, on one fresh PostgreSQL schema.
func newCluster(t *testing.T) (a, b *testEnv) {
	t.Helper()
	dsn := postgresSchema(t).String()
	v := testVault(t, 9)
	return newReplica(t, dsn, "node-a", v), newReplica(t, dsn, "node-b", v)
}

// within polls ok every 10 ms until it holds and returns how long that
// took since start, failing the test after limit.
func within(t *testing.T, what string, start time.Time, limit time.Duration, ok func() bool) time.Duration {
	t.Helper()
	for {
		if ok() {
			d := time.Since(start)
			t.Logf("%s after %v", what, d)
			return d
		}
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// status sends one chat with secret to e and returns the status.
func status(e *testEnv, secret string) int {
	resp, _ := e.post("/v1/chat/completions", chatBody, "Authorization", "Bearer "+secret)
	return resp.StatusCode
}

// TestKeyChangesReachTheOtherReplicaWithinASecond: a key created, then
// revoked, through replica a's admin API is accepted, then refused, by
// replica b within a second, though b refreshes by itself once a minute.
func TestKeyChangesReachTheOtherReplicaWithinASecond(t *testing.T) {
	a, b := newCluster(t)
	start := time.Now()
	id, secret := a.createKey(`{"name":"app"}`)
	within(t, "b accepts a key created through a", start, time.Second, func() bool { return status(b, secret) == 200 })

	start = time.Now()
	if resp, body := a.adminDo(http.MethodDelete, "/admin/v1/keys/"+id, ""); resp.StatusCode/100 != 2 {
		t.Fatalf("revoke through a: %d %s", resp.StatusCode, body)
	}
	within(t, "b refuses a key revoked through a", start, time.Second, func() bool { return status(b, secret) == 401 })
	if got := status(a, secret); got != 401 {
		t.Errorf("a answers %d to its own revoked key, want 401", got)
	}
}

// TestTeamChangesReachTheOtherReplicaWithinASecond: a team disabled
// through a stops its keys on b within a second.
func TestTeamChangesReachTheOtherReplicaWithinASecond(t *testing.T) {
	a, b := newCluster(t)
	team := a.createOrg("/admin/v1/teams", `{"name":"search"}`)
	start := time.Now()
	_, secret := a.createKey(`{"name":"app","team_id":"` + team + `"}`)
	within(t, "b accepts the team's new key", start, time.Second, func() bool { return status(b, secret) == 200 })

	start = time.Now()
	if resp, body := a.adminDo(http.MethodPatch, "/admin/v1/teams/"+team, `{"disabled":true}`); resp.StatusCode != 200 {
		t.Fatalf("disable team through a: %d %s", resp.StatusCode, body)
	}
	within(t, "b refuses the key of a team disabled through a", start, time.Second,
		func() bool { return status(b, secret) == 401 })
}

// TestCredentialChangesReachTheOtherReplicaWithinASecond: a provider key
// stored through a is sent upstream by b within a second, and once
// deleted through a, b goes back to the configured key.
func TestCredentialChangesReachTheOtherReplicaWithinASecond(t *testing.T) {
	a, b := newCluster(t)
	_, secret := a.createKey(`{"name":"app"}`)
	within(t, "b accepts the key", time.Now(), time.Second, func() bool { return status(b, secret) == 200 })
	upstreamKey := func() string {
		if got := status(b, secret); got != 200 {
			t.Fatalf("chat through b: %d", got)
		}
		return strings.TrimPrefix(b.lastUpstream().header("Authorization"), "Bearer ")
	}

	start := time.Now()
	body, _ := json.Marshal(map[string]any{"provider": "oai", "name": "shared", "key": secretA, "weight": 1})
	resp, out := a.adminDo(http.MethodPost, "/admin/v1/credentials", string(body))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("store a credential through a: %d %s", resp.StatusCode, out)
	}
	var c credView
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatal(err)
	}
	within(t, "b sends the provider key stored through a", start, time.Second,
		func() bool { return upstreamKey() == secretA })

	start = time.Now()
	if resp, out := a.adminDo(http.MethodDelete, "/admin/v1/credentials/"+c.ID, ""); resp.StatusCode/100 != 2 {
		t.Fatalf("delete the credential through a: %d %s", resp.StatusCode, out)
	}
	within(t, "b stops sending the provider key deleted through a", start, time.Second,
		func() bool { return upstreamKey() == "sk-config-oai-secret" })
}

// TestRecordsNameTheirNode: each replica's records carry its node name,
// and the admin API filters by it.
func TestRecordsNameTheirNode(t *testing.T) {
	a, b := newCluster(t)
	_, secret := a.createKey(`{"name":"app"}`)
	within(t, "b accepts the key", time.Now(), time.Second, func() bool { return status(b, secret) == 200 })
	resp, _ := b.post("/v1/chat/completions", chatBody, "Authorization", "Bearer "+secret)
	id := resp.Header.Get("X-Request-Id")
	if rec := b.record(id); rec.Node != "node-b" {
		t.Errorf("record of a request b served: node %q, want node-b", rec.Node)
	}
	if !strings.Contains(b.logText(), "node=node-b") {
		t.Error("b's access log lines do not say node=node-b")
	}
	// Through a's admin API: the fleet's records, b's alone with ?node=.
	for _, tc := range []struct {
		node string
		want bool
	}{{"node-b", true}, {"node-a", false}} {
		r, body := a.adminDo(http.MethodGet, "/admin/v1/logs?node="+tc.node, "")
		if r.StatusCode != 200 {
			t.Fatalf("logs?node=%s: %d %s", tc.node, r.StatusCode, body)
		}
		if got := bytes.Contains(body, []byte(`"id":"`+id+`"`)); got != tc.want {
			t.Errorf("logs?node=%s lists b's request: %v, want %v", tc.node, got, tc.want)
		}
	}
}
