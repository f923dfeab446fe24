package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/mock"
	"github.com/sluicehq/sluice/internal/store"
)

// mirrorConfig sends chat-default to the primary mock and mirrors the
// route's share to a model of the shadow mock.
const mirrorConfig = `
providers:
  - { name: oai, type: openai, base_url: "PRIMARY/v1", api_key: "sk-test" }
  - { name: shadow, type: openai, base_url: "SHADOW/v1", api_key: "sk-shadow" }
models:
  - name: chat-default
    targets: [ { provider: oai, model: gpt-4o-mini } ]
routes:
  - name: migrate
    when: 'model == "chat-default"'
    mirror: { model: shadow/gpt-4o, percent: PERCENT, max_in_flight: INFLIGHT, timeout: 10s }
`

type mirrorEnv struct {
	*testEnv
	primary, shadow *mock.Server
}

func newMirrorEnv(t *testing.T, percent, inFlight string, shadowLatency time.Duration) *mirrorEnv {
	t.Helper()
	primary, purl := startMock(t, mock.Options{})
	shadow, surl := startMock(t, mock.Options{Latency: shadowLatency})
	text := strings.NewReplacer("PRIMARY", purl, "SHADOW", surl, "PERCENT", percent, "INFLIGHT", inFlight).Replace(mirrorConfig)
	return &mirrorEnv{testEnv: startEnv(t, text), primary: primary, shadow: shadow}
}

// shadows waits until the store holds want shadow records, and returns them.
func (e *mirrorEnv) shadows(want int) []store.Record {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, err := e.store.QueryLogs(context.Background(), store.LogFilter{Mirrors: store.MirrorsOnly, Limit: 1000})
		if err != nil {
			e.t.Fatal(err)
		}
		if len(p.Records) >= want || time.Now().After(deadline) {
			if len(p.Records) != want {
				e.t.Fatalf("%d shadow records, want %d", len(p.Records), want)
			}
			return p.Records
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestMirrorSendsItsShare: 25% of 40 requests is exactly 10 shadow
// requests, each logged with its tokens and cost and linked to the
// request it copied; the client traffic is untouched.
func TestMirrorSendsItsShare(t *testing.T) {
	env := newMirrorEnv(t, "25", "8", 0)
	primaries := map[string]bool{}
	for i := range 40 {
		body := chatBody
		if i%3 == 0 { // every fourth request is copied: some streams, some not
			body = strings.Replace(chatBody, `"model"`, `"stream":true,"stream_options":{"include_usage":true},"model"`, 1)
		}
		resp, b := env.post("/v1/chat/completions", body)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		primaries[resp.Header.Get("X-Request-Id")] = true
	}
	recs := env.shadows(10)
	if got := env.shadow.Stats().Requests; got != 10 {
		t.Errorf("the shadow mock got %d requests, want 10", got)
	}
	if got := env.primary.Stats().Requests; got != 40 {
		t.Errorf("the primary mock got %d requests, want 40", got)
	}
	streams := 0
	for _, r := range recs {
		if !primaries[r.MirrorOf] {
			t.Errorf("shadow %s: mirror_of %q is not a client request", r.ID, r.MirrorOf)
		}
		if r.Provider != "shadow" || r.Model != "gpt-4o" || r.ModelRequested != "shadow/gpt-4o" || r.Status != 200 {
			t.Errorf("shadow %s: provider %q model %q requested %q status %d", r.ID, r.Provider, r.Model, r.ModelRequested, r.Status)
		}
		if r.PromptTokens == 0 || r.CompletionTokens == 0 || !r.PriceKnown || r.CostMicros == 0 {
			t.Errorf("shadow %s: tokens %d/%d, price known %v, cost %d", r.ID, r.PromptTokens, r.CompletionTokens, r.PriceKnown, r.CostMicros)
		}
		if r.Route != "/v1/chat/completions" {
			t.Errorf("shadow %s: route %q", r.ID, r.Route)
		}
		if r.Stream {
			streams++
		}
		primary := env.record(r.MirrorOf)
		if primary.MirrorOf != "" || primary.Model != "gpt-4o-mini" || primary.Stream != r.Stream {
			t.Errorf("primary %s: mirror_of %q, model %q, stream %v (shadow stream %v)", primary.ID, primary.MirrorOf, primary.Model, primary.Stream, r.Stream)
		}
	}
	if streams == 0 || streams == len(recs) {
		t.Errorf("%d of %d shadows were streams; want both kinds", streams, len(recs))
	}
	if st := env.gw.MirrorStats(); st.Started != 10 || st.Dropped != 0 || st.Failed != 0 {
		t.Errorf("MirrorStats = %+v", st)
	}
	// Client traffic and shadows apart, through the admin API.
	_, body := env.adminDo(http.MethodGet, "/admin/v1/logs?mirrors=exclude&limit=1000", "")
	if n := strings.Count(string(body), `"id":`); n != 40 {
		t.Errorf("mirrors=exclude lists %d records, want 40", n)
	}
	_, body = env.adminDo(http.MethodGet, "/admin/v1/logs?mirror_of="+recs[0].MirrorOf, "")
	var page struct {
		Data []struct {
			ID       string `json:"id"`
			MirrorOf string `json:"mirror_of"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if len(page.Data) != 1 || page.Data[0].ID != recs[0].ID || page.Data[0].MirrorOf != recs[0].MirrorOf {
		t.Errorf("mirror_of=%s lists %s, want the one shadow %s", recs[0].MirrorOf, body, recs[0].ID)
	}
}

// TestSlowShadowDoesNotSlowTheClient: with a shadow that takes 2 s, every
// client answer still comes at once; the shadow records arrive later with
// their 2 s latency.
func TestSlowShadowDoesNotSlowTheClient(t *testing.T) {
	env := newMirrorEnv(t, "100", "8", 2*time.Second)
	var ids []string
	for range 4 {
		start := time.Now()
		resp, b := env.post("/v1/chat/completions", chatBody)
		if took := time.Since(start); took > 500*time.Millisecond {
			t.Errorf("client answer took %v with a 2 s shadow", took)
		}
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		ids = append(ids, resp.Header.Get("X-Request-Id"))
	}
	for _, id := range ids {
		if rec := env.record(id); rec.LatencyMicros > 500_000 {
			t.Errorf("primary %s logged latency %d µs", id, rec.LatencyMicros)
		}
	}
	for _, r := range env.shadows(4) {
		if r.LatencyMicros < 2_000_000 || r.Status != 200 || r.CompletionTokens == 0 {
			t.Errorf("shadow %s: latency %d µs, status %d, completion tokens %d", r.ID, r.LatencyMicros, r.Status, r.CompletionTokens)
		}
	}
}

// TestMirrorDropsWhenSaturated: with one shadow allowed in flight and a
// slow shadow, a burst sends one copy and drops (and counts) the rest.
func TestMirrorDropsWhenSaturated(t *testing.T) {
	env := newMirrorEnv(t, "100", "1", time.Second)
	for range 5 {
		if resp, b := env.post("/v1/chat/completions", chatBody); resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
	}
	if st := env.gw.MirrorStats(); st.Started != 1 || st.Dropped != 4 {
		t.Errorf("MirrorStats = %+v, want 1 started and 4 dropped", st)
	}
	env.shadows(1)
	_, body := env.get("/metrics")
	if !strings.Contains(string(body), "sluice_mirror_dropped_total 4") {
		t.Errorf("/metrics lacks sluice_mirror_dropped_total 4")
	}
}

// TestMirrorOfAFailedShadowIsLogged: a shadow that fails is logged with
// its error; the client got its answer.
func TestMirrorOfAFailedShadowIsLogged(t *testing.T) {
	env := newMirrorEnv(t, "100", "8", 0)
	env.shadow.InjectFault(mock.Fault{Status: 500, Count: 10}) // more than any retries
	r, b := env.post("/v1/chat/completions", chatBody)
	if r.StatusCode != 200 {
		t.Fatalf("client: %d %s", r.StatusCode, b)
	}
	recs := env.shadows(1)
	if recs[0].Status < 500 || recs[0].ErrorCode == "" {
		t.Errorf("failed shadow logged with status %d, error code %q", recs[0].Status, recs[0].ErrorCode)
	}
	if st := env.gw.MirrorStats(); st.Failed != 1 {
		t.Errorf("MirrorStats = %+v, want 1 failed", st)
	}
}
