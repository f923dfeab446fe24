package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/route"
	"github.com/sluicehq/sluice/internal/router"
	"github.com/sluicehq/sluice/internal/usage"
)

// routeTable is the compiled `routes:` section of one config snapshot.
type routeTable struct {
	conds *route.Table
	rules []routeRule
}

// routeRule is what a matching route does.
type routeRule struct {
	name string
	// model replaces the requested model; "" keeps it.
	model string
	// mirror copies some requests to a candidate; nil when none.
	mirror *mirror
}

// newRouteTable compiles the routes and checks that every model they name
// resolves with rt. No routes give a nil table.
func newRouteTable(rs []config.Route, rt *router.Router) (*routeTable, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	when := make([]string, len(rs))
	t := &routeTable{rules: make([]routeRule, len(rs))}
	for i, r := range rs {
		when[i] = r.When
		t.rules[i] = routeRule{name: r.Name, model: r.Model}
		for _, m := range []string{r.Model, r.Mirror.Model} {
			if m == "" {
				continue
			}
			if _, err := rt.Resolve(m); err != nil {
				return nil, fmt.Errorf("gateway: route %q: model %q: %w", r.Name, m, err)
			}
		}
		if r.Mirror.Model != "" && r.Mirror.Percent > 0 {
			t.rules[i].mirror = newMirror(r.Name, r.Mirror)
		}
	}
	conds, err := route.NewTable(when)
	if err != nil {
		return nil, fmt.Errorf("gateway: routes: %w", err)
	}
	t.conds = conds
	return t, nil
}

func (t *routeTable) len() int {
	if t == nil {
		return 0
	}
	return len(t.rules)
}

// routesStage pins the request to the current config snapshot (it
// finishes on that config whatever reloads happen), then applies the
// first conditional route that matches: it names the route in
// ex.Route, rewrites the model the router resolves (the record keeps the
// model the client asked for) and, after the answer has started, may
// start a shadow copy of the request (see mirror.go).
func (g *Gateway) routesStage(next Handler) Handler {
	return HandlerFunc(func(ctx context.Context, ex *Exchange) error {
		ri := infoFrom(ctx)
		s := ri.snap
		if s == nil {
			s = g.snap.Load()
			ri.snap = s
		}
		if s.routes == nil {
			return next.Serve(ctx, ex)
		}
		var env route.Request
		fillRouteRequest(&env, s.routes.conds.Needs(), ex, ri)
		i, err := s.routes.conds.Match(&env)
		if err != nil {
			g.log.Warn("route condition failed; the route is skipped", "request_id", ex.ID, "error", err)
		}
		if i < 0 {
			return next.Serve(ctx, ex)
		}
		r := &s.routes.rules[i]
		ex.Route = r.name
		if r.model != "" {
			setModel(ex, r.model)
		}
		err = next.Serve(ctx, ex)
		if r.mirror != nil && mirrorable(err) {
			g.startMirror(s, r.mirror, ex, ri)
		}
		return err
	})
}

// mirrorable reports whether a request that ended with err is copied: it
// was answered, or its provider failed. A request refused by a policy
// stage (limits, guardrails) or by the caller's own mistake is not.
func mirrorable(err error) bool {
	return err == nil || llm.AsError(err).Fault == llm.FaultProvider
}

// setModel points the exchange at model, on a copy of the request (the
// original belongs to the handler, which keeps the client's name).
func setModel(ex *Exchange, model string) {
	if ex.Op == OpEmbeddings {
		req := *ex.Embeddings
		req.Model = model
		ex.Embeddings = &req
		return
	}
	req := *ex.Request
	req.Model = model
	ex.Request = &req
}

// fillRouteRequest fills what route conditions read; the costlier fields
// only when needs asks for them.
func fillRouteRequest(env *route.Request, needs route.Needs, ex *Exchange, ri *requestInfo) {
	if p := ri.principal; p != nil {
		env.Key, env.Team, env.Tenant = p.KeyID, p.TeamID, p.TenantID
	}
	if needs.Metadata && len(ri.metadata) > 0 {
		env.Metadata = make(map[string]string, len(ri.metadata))
		for k, v := range ri.metadata {
			env.Metadata[k] = metadataPlain(v)
		}
	}
	if ex.Op == OpEmbeddings {
		env.Model = ex.Embeddings.Model
		if needs.PromptTokens {
			env.PromptTokens = estimateEmbeddingTokens(ex.Embeddings)
		}
		return
	}
	req := ex.Request
	env.Model, env.Stream, env.HasTools = req.Model, req.Stream, len(req.Tools) > 0
	if needs.PromptTokens || needs.HasImages {
		env.PromptTokens, env.HasImages = estimatePromptTokens(req)
	}
}

// metadataPlain turns a metadata value from its JSON text form (see
// parseMetadata) into the plain text conditions compare: a string loses
// its quotes and escapes, a number or bool stays as written.
func metadataPlain(v string) string {
	if len(v) < 2 || v[0] != '"' {
		return v
	}
	if !strings.ContainsRune(v, '\\') {
		return v[1 : len(v)-1]
	}
	var s string
	if json.Unmarshal([]byte(v), &s) != nil {
		return v
	}
	return s
}

// estimatePromptTokens estimates a chat prompt's tokens cheaply: text at
// four bytes a token, media at the flat rates usage.CountRequest uses.
// It reads lengths only, never the text. It also says whether any
// message carries an image.
func estimatePromptTokens(req *llm.Request) (tokens int, images bool) {
	var bytes, flat int
	var parts func(ps []llm.Part)
	parts = func(ps []llm.Part) {
		for i := range ps {
			p := &ps[i]
			switch p.Kind {
			case llm.PartText, llm.PartReasoning, llm.PartRefusal:
				bytes += len(p.Text)
			case llm.PartToolCall:
				if p.ToolCall != nil {
					bytes += len(p.ToolCall.Name) + len(p.ToolCall.Arguments)
				}
			case llm.PartToolResult:
				if p.ToolResult != nil {
					parts(p.ToolResult.Parts)
				}
			case llm.PartImage:
				images = true
				flat += usage.ImagePartTokens
			case llm.PartAudio:
				flat += usage.AudioPartTokens
			case llm.PartFile:
				flat += usage.FilePartTokens
			default:
				flat += usage.OpaquePartTokens
			}
		}
	}
	for i := range req.Messages {
		flat += 3 // framing per message, as CountRequest
		parts(req.Messages[i].Parts)
	}
	for i := range req.Tools {
		t := &req.Tools[i]
		bytes += len(t.Name) + len(t.Description) + len(t.Parameters) + len(t.Raw)
	}
	return (bytes+3)/4 + flat, images
}

// estimateEmbeddingTokens is estimatePromptTokens for embeddings inputs.
func estimateEmbeddingTokens(req *llm.EmbeddingsRequest) int {
	n := 0
	for i := range req.Inputs {
		in := &req.Inputs[i]
		n += (len(in.Text)+3)/4 + len(in.Tokens)
	}
	return n
}
