package gateway

import (
	"context"
	"log/slog"
	"testing"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/route"
)

func TestMetadataPlain(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`"free"`, "free"},
		{`"caf\u00e9"`, "café"},
		{`"a\"b"`, `a"b`},
		{`42`, "42"},
		{`true`, "true"},
		{`""`, ""},
	} {
		if got := metadataPlain(tc.in); got != tc.want {
			t.Errorf("metadataPlain(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEstimatePromptTokens(t *testing.T) {
	req := &llm.Request{Messages: []llm.Message{
		{Role: llm.RoleUser, Parts: []llm.Part{{Kind: llm.PartText, Text: string(make([]byte, 4000))}}},
		{Role: llm.RoleUser, Parts: []llm.Part{{Kind: llm.PartImage, Media: &llm.Media{}}}},
	}}
	n, images := estimatePromptTokens(req)
	if want := 1000 + 2*3 + 765; n != want || !images {
		t.Errorf("estimate = %d, %v; want %d, true", n, images, want)
	}
}

// tenRoutes is a realistic table: nine rules a typical request does not
// match, then a catch-all.
var tenRoutes = []string{
	`metadata.plan == "free"`,
	`prompt_tokens > 100000`,
	`tenant == "t_batch" && !stream`,
	`has_images && model == "chat-default"`,
	`key in ["key_a", "key_b", "key_c"]`,
	`team == "research" && has_tools`,
	`model startsWith "claude-" && prompt_tokens > 50000`,
	`metadata.region == "eu"`,
	`stream && tenant == "t_live"`,
	`true`,
}

// BenchmarkRoutesStage is the stage's cost per request with ten routes,
// the last matching, on a ~1 KB request with metadata and a principal.
func BenchmarkRoutesStage(b *testing.B) {
	conds, err := route.NewTable(tenRoutes)
	if err != nil {
		b.Fatal(err)
	}
	rt := &routeTable{conds: conds, rules: make([]routeRule, len(tenRoutes))}
	for i := range rt.rules {
		rt.rules[i] = routeRule{name: "r", model: "small"}
	}
	g := &Gateway{log: slog.New(slog.DiscardHandler)}
	g.snap.Store(&snapshot{routes: rt})
	stage := g.routesStage(HandlerFunc(func(context.Context, *Exchange) error { return nil }))
	text := string(make([]byte, 1000))
	req := &llm.Request{Model: "chat-default", Messages: []llm.Message{
		{Role: llm.RoleSystem, Parts: []llm.Part{{Kind: llm.PartText, Text: "Be brief."}}},
		{Role: llm.RoleUser, Parts: []llm.Part{{Kind: llm.PartText, Text: text}}},
	}}
	ri := &requestInfo{metadata: map[string]string{"plan": `"pro"`, "user": `"u-1"`},
		principal: &auth.Principal{KeyID: "key_z", TeamID: "ops", TenantID: "t_1"}}
	ctx := context.WithValue(context.Background(), infoKey{}, ri)
	b.ReportAllocs()
	for b.Loop() {
		ri.snap = nil
		ex := &Exchange{Op: OpChat, Request: req}
		if err := stage.Serve(ctx, ex); err != nil || ex.Route != "r" {
			b.Fatal(err, ex.Route)
		}
	}
}

// BenchmarkRoutesStageNoRoutes is the stage with no routes configured:
// only the snapshot is pinned.
func BenchmarkRoutesStageNoRoutes(b *testing.B) {
	g := &Gateway{log: slog.New(slog.DiscardHandler)}
	g.snap.Store(&snapshot{})
	stage := g.routesStage(HandlerFunc(func(context.Context, *Exchange) error { return nil }))
	ri := &requestInfo{}
	ctx := context.WithValue(context.Background(), infoKey{}, ri)
	ex := &Exchange{Op: OpChat, Request: &llm.Request{Model: "chat-default"}}
	b.ReportAllocs()
	for b.Loop() {
		ri.snap = nil
		if err := stage.Serve(ctx, ex); err != nil {
			b.Fatal(err)
		}
	}
}
