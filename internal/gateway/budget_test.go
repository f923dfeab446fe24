package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/budget"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/gateway"
	"github.com/sluicehq/sluice/internal/mock"
	"github.com/sluicehq/sluice/internal/store"
)

// dollarPerRequest prices a request at exactly $1, whatever its tokens.
var dollarPerRequest = []string{"X-Sluice-Custom-Cost", `{"per_token_in":0,"per_token_out":0,"per_request":1}`}

// testClock is a settable clock for budget periods.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// budgetGateway is one gateway process over a data dir that outlives it,
// with keys required, spend written every 10ms and the test's clock.
type budgetGateway struct {
	*testEnv
	clk   *testClock
	close func()
}

func startBudgetGateway(t *testing.T, dataDir string, clk *testClock, mockOpts mock.Options) *budgetGateway {
	t.Helper()
	m := mock.New(mockOpts)
	ms := httptest.NewServer(m)
	t.Cleanup(ms.Close)
	text := strings.NewReplacer("MOCK", ms.URL, "DATADIR", dataDir).Replace(envConfig)
	text = strings.Replace(text, "auth: { require_keys: false }\n", "auth: { require_keys: true }\n", 1)
	text += "budgets: { flush_interval: 10ms }\n"
	cfg, err := config.Parse([]byte(text), "budget.yaml")
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedWriter{w: new(bytes.Buffer)}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc, err := gateway.OpenServices(t.Context(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	opts := svc.Options(log, envAdminKey)
	opts.Now = clk.now
	g, err := gateway.New(cfg, opts)
	if err != nil {
		svc.Close(context.Background())
		t.Fatal(err)
	}
	gs := httptest.NewServer(g.Handler())
	env := &testEnv{t: t, gw: g, url: gs.URL, mock: m, mockURL: ms.URL, logs: logs, store: svc.Store, svc: svc}
	var once sync.Once
	bg := &budgetGateway{testEnv: env, clk: clk, close: func() {
		once.Do(func() {
			gs.Close()
			g.Close()
			if err := svc.Close(context.Background()); err != nil {
				t.Errorf("close services: %v", err)
			}
		})
	}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gateway log:\n%s", env.logText())
		}
		bg.close()
	})
	return bg
}

// chat sends a $1 chat request as key secret.
func (e *testEnv) chatAs(secret string, extra ...string) (*http.Response, []byte) {
	e.t.Helper()
	h := append([]string{"Authorization", "Bearer " + secret}, dollarPerRequest...)
	return e.post("/v1/chat/completions", chatBody, append(h, extra...)...)
}

// spent returns the store's spend of a scope's current period.
func (b *budgetGateway) spent(scope, id, period, tz string) int64 {
	b.t.Helper()
	loc, _ := budget.Zone(tz)
	start, _ := budget.Bounds(period, loc, b.clk.now())
	v, err := b.store.GetSpend(context.Background(), store.SpendKey{Scope: scope, ScopeID: id, PeriodStart: start})
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

// waitSpent waits until the store holds micros of spend for the scope's
// current period: requests are charged when they finish, and written
// every flush interval.
func (b *budgetGateway) waitSpent(scope, id, period, tz string, micros int64) {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v := b.spent(scope, id, period, tz)
		if v == micros {
			return
		}
		if v > micros || time.Now().After(deadline) {
			b.t.Fatalf("%s %s: spent %d, want %d", scope, id, v, micros)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// events returns the kinds of the alert events about subject, oldest
// first, once they stop changing.
func (e *testEnv) eventKinds(subject string) []string {
	e.t.Helper()
	var kinds []string
	for range 5 {
		time.Sleep(20 * time.Millisecond)
		es, _, err := e.store.ListEvents(context.Background(), store.EventFilter{Subject: subject})
		if err != nil {
			e.t.Fatal(err)
		}
		kinds = kinds[:0]
		for i := len(es) - 1; i >= 0; i-- {
			kinds = append(kinds, es[i].Kind)
		}
	}
	return kinds
}

// wantBudgetRefusal checks a 429 budget_exceeded answer.
func wantBudgetRefusal(t *testing.T, resp *http.Response, body []byte, scopeWords string, retryAfter time.Duration) {
	t.Helper()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429: %s", resp.StatusCode, body)
	}
	e := decodeAPIError(t, body)
	if deref(e.Error.Code) != "budget_exceeded" || e.Error.Type != "insufficient_quota" {
		t.Errorf("code %q type %q, want budget_exceeded / insufficient_quota", deref(e.Error.Code), e.Error.Type)
	}
	if !strings.Contains(e.Error.Message, scopeWords) {
		t.Errorf("message %q does not name %q", e.Error.Message, scopeWords)
	}
	if strings.Contains(e.Error.Message, "key_") || strings.Contains(e.Error.Message, "team_") {
		t.Errorf("message %q names an id", e.Error.Message)
	}
	got := resp.Header.Get("Retry-After")
	if retryAfter == 0 {
		if got != "" {
			t.Errorf("Retry-After %q for a budget that never resets", got)
		}
		return
	}
	if secs, err := strconv.Atoi(got); err != nil || time.Duration(secs)*time.Second != retryAfter {
		t.Errorf("Retry-After %q, want %v", got, retryAfter)
	}
}

// TestBudgetSpentRefusedThenResetsAtLocalMidnight is the check:
// spend reaches the budget, the next request is refused, the period
// rolls over (midnight in New York, 05:00 UTC), requests pass again; and
// a restarted gateway keeps the spend.
func TestBudgetSpentRefusedThenResetsAtLocalMidnight(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	clk := &testClock{t: time.Date(2025, 3, 8, 23, 0, 0, 0, ny)}
	dir := t.TempDir()
	env := startBudgetGateway(t, dir, clk, mock.Options{})
	id, secret := env.createKey(`{"name":"app","budget_usd":"3","budget_period":"daily","budget_tz":"America/New_York"}`)

	for i := range 3 {
		resp, body := env.chatAs(secret)
		if resp.StatusCode != 200 {
			t.Fatalf("request %d of a $3 budget: %d %s", i+1, resp.StatusCode, body)
		}
		if got, want := resp.Header.Get("X-Sluice-Budget-Remaining-Usd"), fmt.Sprintf("%d.000000", 3-i); got != want {
			t.Errorf("request %d: x-sluice-budget-remaining-usd %q, want %q", i+1, got, want)
		}
		env.waitSpent("key", id, "daily", "America/New_York", int64(i+1)*1_000_000)
	}
	resp, body := env.chatAs(secret)
	wantBudgetRefusal(t, resp, body, "this key has spent its daily budget of $3.00", time.Hour)
	if resp.Header.Get("X-Should-Retry") != "false" || resp.Header.Get("X-Sluice-Budget-Remaining-Usd") != "0.000000" {
		t.Errorf("refusal headers: x-should-retry %q, remaining %q", resp.Header.Get("X-Should-Retry"),
			resp.Header.Get("X-Sluice-Budget-Remaining-Usd"))
	}
	// Provider passthrough, which skips the pipeline and is not priced,
	// is refused to a budgeted key whatever its spend.
	resp, body = env.post("/oai/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`,
		"Authorization", "Bearer "+secret)
	if resp.StatusCode != 403 || deref(decodeAPIError(t, body).Error.Code) != "budget_not_supported" {
		t.Errorf("passthrough with a budgeted key: %d %s, want 403 budget_not_supported", resp.StatusCode, body)
	}
	// A key without a budget gets no budget header.
	_, other := env.createKey(`{"name":"unbudgeted"}`)
	if resp, _ := env.chatAs(other); resp.StatusCode != 200 || resp.Header.Get("X-Sluice-Budget-Remaining-Usd") != "" {
		t.Errorf("unbudgeted key: %d, remaining %q", resp.StatusCode, resp.Header.Get("X-Sluice-Budget-Remaining-Usd"))
	}
	resp, body = env.chatAs(secret)
	if want := "2025-03-09T00:00:00-05:00"; !strings.Contains(string(body), want) {
		t.Errorf("the refusal does not say it resets at %s: %s", want, body)
	}
	if rec := env.record(resp.Header.Get("X-Request-Id")); rec.Status != 429 || rec.ErrorCode != "budget_exceeded" || rec.CostMicros != 0 {
		t.Errorf("record of the refusal: status %d code %q cost %d", rec.Status, rec.ErrorCode, rec.CostMicros)
	}
	// The Anthropic route refuses in its own format.
	resp, body = env.post("/v1/messages", `{"model":"claude/claude-haiku-4-5","max_tokens":20,"messages":[{"role":"user","content":"hi"}]}`,
		"X-Api-Key", secret)
	if resp.StatusCode != 429 || !strings.Contains(string(body), `"type":"rate_limit_error"`) {
		t.Errorf("/v1/messages: %d %s", resp.StatusCode, body)
	}
	if got := env.eventKinds("key:" + id); strings.Join(got, ",") != "budget.soft_limit,budget.exceeded" {
		t.Errorf("events %q, want the soft limit ($2.40 of $3) and the budget once each", got)
	}

	// 23:59:59 in New York is still the same day; midnight is not.
	clk.set(time.Date(2025, 3, 8, 23, 59, 59, 0, ny))
	resp, body = env.chatAs(secret)
	wantBudgetRefusal(t, resp, body, "this key", time.Second)
	clk.set(time.Date(2025, 3, 9, 0, 0, 1, 0, ny))
	if resp, body := env.chatAs(secret); resp.StatusCode != 200 {
		t.Fatalf("after local midnight: %d %s", resp.StatusCode, body)
	}
	env.waitSpent("key", id, "daily", "America/New_York", 1_000_000)
	if got := env.spent("key", id, "daily", "America/New_York"); got != 1_000_000 {
		t.Errorf("the new day's spend: %d", got)
	}
	for range 2 {
		if resp, body := env.chatAs(secret); resp.StatusCode != 200 {
			t.Fatalf("second day: %d %s", resp.StatusCode, body)
		}
	}
	env.waitSpent("key", id, "daily", "America/New_York", 3_000_000)

	// A restarted gateway on the same database refuses at once, and does
	// not alert again.
	env.close()
	env = startBudgetGateway(t, dir, clk, mock.Options{})
	resp, body = env.chatAs(secret)
	wantBudgetRefusal(t, resp, body, "this key", 23*time.Hour-time.Second)
	if got := env.eventKinds("key:" + id); strings.Join(got, ",") != "budget.soft_limit,budget.exceeded,budget.soft_limit,budget.exceeded" {
		t.Errorf("events %q, want two of each (one per day), none from the restart", got)
	}
	clk.set(time.Date(2025, 3, 10, 0, 0, 0, 0, ny))
	if resp, body := env.chatAs(secret); resp.StatusCode != 200 {
		t.Fatalf("third day after a restart: %d %s", resp.StatusCode, body)
	}
}

// TestTeamAndTenantBudgetsCountEveryKey gives two keys of one team a
// shared team budget, and the tenant a lifetime budget over both teams.
func TestTeamAndTenantBudgetsCountEveryKey(t *testing.T) {
	clk := &testClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)} // a Sunday
	env := startBudgetGateway(t, t.TempDir(), clk, mock.Options{})
	create := func(path, body string) string {
		t.Helper()
		resp, b := env.adminDo(http.MethodPost, path, body)
		var obj struct {
			ID string `json:"id"`
		}
		if resp.StatusCode != 201 || json.Unmarshal(b, &obj) != nil || obj.ID == "" {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
		}
		return obj.ID
	}
	tenant := create("/admin/v1/tenants", `{"name":"Acme","budget_usd":"4","budget_period":"total"}`)
	red := create("/admin/v1/teams", `{"tenant_id":"`+tenant+`","name":"red","budget_usd":"2","budget_period":"weekly"}`)
	blue := create("/admin/v1/teams", `{"tenant_id":"`+tenant+`","name":"blue"}`)
	_, red1 := env.createKey(`{"name":"r1","tenant_id":"` + tenant + `","team_id":"` + red + `"}`)
	_, red2 := env.createKey(`{"name":"r2","tenant_id":"` + tenant + `","team_id":"` + red + `"}`)
	_, blue1 := env.createKey(`{"name":"b","tenant_id":"` + tenant + `","team_id":"` + blue + `"}`)

	for _, s := range []string{red1, red2} {
		if resp, body := env.chatAs(s); resp.StatusCode != 200 {
			t.Fatalf("red: %d %s", resp.StatusCode, body)
		}
	}
	env.waitSpent("team", red, "weekly", "", 2_000_000)
	for _, s := range []string{red1, red2} {
		resp, body := env.chatAs(s)
		// Monday 2 June 00:00 UTC is 12 hours away.
		wantBudgetRefusal(t, resp, body, "this key's team has spent its weekly budget of $2.00", 12*time.Hour)
	}
	for range 2 {
		if resp, body := env.chatAs(blue1); resp.StatusCode != 200 {
			t.Fatalf("blue: %d %s", resp.StatusCode, body)
		}
	}
	env.waitSpent("tenant", tenant, "total", "", 4_000_000)
	resp, body := env.chatAs(blue1)
	wantBudgetRefusal(t, resp, body, "this key's tenant has spent its budget of $4.00, which does not reset", 0)
	// A new week frees the team, not the tenant.
	clk.set(time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC))
	resp, body = env.chatAs(red1)
	wantBudgetRefusal(t, resp, body, "this key's tenant", 0)
	if got := env.spent("team", red, "weekly", ""); got != 0 {
		t.Errorf("the team's new week: %d spent", got)
	}
}

// TestBudgetCountsStreams charges streams at their end: a whole stream,
// and one the client leaves halfway (its usage is then estimated).
func TestBudgetCountsStreams(t *testing.T) {
	clk := &testClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	env := startBudgetGateway(t, t.TempDir(), clk, mock.Options{StreamChunks: 8, ChunkInterval: 30 * time.Millisecond})
	id, secret := env.createKey(`{"name":"s","budget_usd":"0.01","budget_period":"monthly"}`)
	// $0.0001 per token in and out: the cost follows the tokens.
	cost := []string{"Authorization", "Bearer " + secret, "X-Sluice-Custom-Cost", `{"per_token_in":0.0001,"per_token_out":0.0001}`}
	stream := `{"model":"oai/gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"one two three four five six seven eight"}]}`
	resp, body := env.post("/v1/chat/completions", stream, cost...)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "[DONE]") {
		t.Fatalf("stream: %d %s", resp.StatusCode, body)
	}
	rec := env.record(resp.Header.Get("X-Request-Id"))
	if rec.CostMicros == 0 || rec.CostMicros >= 5000 {
		t.Fatalf("stream cost %d µ$: want some, below half the $0.01 budget", rec.CostMicros)
	}
	env.waitSpent("key", id, "monthly", "", rec.CostMicros)

	// A client that leaves after the first event.
	req, _ := http.NewRequest(http.MethodPost, env.url+"/v1/chat/completions", strings.NewReader(stream))
	for i := 0; i < len(cost); i += 2 {
		req.Header.Set(cost[i], cost[i+1])
	}
	ctx, cancel := context.WithCancel(context.Background())
	r, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(r.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "data: ") {
		t.Fatalf("first line %q: %v", line, err)
	}
	cut := r.Header.Get("X-Request-Id")
	cancel()
	r.Body.Close()
	cutRec := env.record(cut)
	if !cutRec.Estimated || cutRec.CostMicros == 0 {
		t.Fatalf("cut stream: estimated %v, cost %d", cutRec.Estimated, cutRec.CostMicros)
	}
	spent := rec.CostMicros + cutRec.CostMicros
	env.waitSpent("key", id, "monthly", "", spent)
	for spent < 10_000 {
		resp, body := env.post("/v1/chat/completions", stream, cost...)
		if resp.StatusCode != 200 {
			t.Fatalf("under budget (%d µ$ spent): %d %s", spent, resp.StatusCode, body)
		}
		spent += env.record(resp.Header.Get("X-Request-Id")).CostMicros
		env.waitSpent("key", id, "monthly", "", spent)
	}
	resp, body = env.post("/v1/chat/completions", stream, cost...)
	wantBudgetRefusal(t, resp, body, "monthly", 29*24*time.Hour+12*time.Hour)
}
