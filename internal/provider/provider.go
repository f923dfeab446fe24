package provider

import (
	"context"
	"net/http"
	"net/http/httputil"
	"time"

	"github.com/sluicehq/sluice/internal/llm"
)

// Provider is an upstream that answers chat requests. Implementations are
// safe for concurrent use. Errors they return are *llm.Error values with the
// provider's name set, so the router can tell retryable failures apart.
//
// req.Model is the upstream's own model name (the router resolved it). An
// adapter must not modify req: the router may send the same request to
// another target after a failure. It applies req.Patch to the chat body it
// encodes (PatchBody).
type Provider interface {
	Name() string
	Chat(ctx context.Context, req *llm.Request) (*llm.Response, error)
	// ChatStream starts a streamed chat. It returns once the upstream has
	// answered with a success status (errors before that are returned here,
	// so they can be retried); failures after that surface from Recv.
	// Cancelling ctx aborts the upstream request.
	ChatStream(ctx context.Context, req *llm.Request) (llm.Stream, error)
}

// Embedder is a Provider that serves embeddings.
type Embedder interface {
	Embed(ctx context.Context, req *llm.EmbeddingsRequest) (*llm.EmbeddingsResponse, error)
}

// ModelLister is a Provider that can list the models it serves.
type ModelLister interface {
	ListModels(ctx context.Context) ([]llm.Model, error)
}

// Passthrough is a Provider that can take a client's request unchanged to
// its own API, adding its credentials (Cloudflare-style provider endpoints).
// The gateway owns the reverse proxy; the adapter only aims it.
type Passthrough interface {
	// RewritePassthrough points pr.Out at the provider: its URL becomes the
	// base URL joined with path (the client's path after "/{provider}/"),
	// keeping the query, and the provider's credentials and static headers
	// are set. The gateway has already removed the client's credentials.
	RewritePassthrough(pr *httputil.ProxyRequest, path string)
}

// Config is what a provider constructor receives: the validated settings of
// one configured provider.
type Config struct {
	// Name is the provider's unique name in this gateway ("openai", "claude").
	Name string
	// Type is a catalog type ("openai", "azure", "anthropic", "gemini",
	// "mistral", …); see Kinds.
	Type string
	// BaseURL is the API root. For OpenAI-wire providers it includes the
	// version segment ("https://api.openai.com/v1"); for Anthropic and
	// Gemini it does not ("https://api.anthropic.com").
	BaseURL string
	// APIKey is the upstream credential; empty sends none (Ollama, vLLM).
	APIKey string
	// Credentials, when not nil, is asked for the key of each request
	// (the gateway's vault); when it has none to give, APIKey is sent.
	// Refusals of the key (401, or decoded as one) are reported back to
	// it (see SendWith).
	Credentials Credentials
	// APIVersion is Azure's api-version query parameter, or the
	// anthropic-version header; empty uses the adapter's default.
	APIVersion string
	// Headers are static headers added to every upstream request.
	Headers map[string]string
	// Models are model names to advertise in /v1/models in addition to
	// what the upstream lists.
	Models []string
	// Timeout bounds one whole upstream call and, for streams, the silence
	// before the first chunk and between two chunks (see OpenStream); zero
	// means no bound beyond the caller's context.
	Timeout time.Duration
	// Client sends the upstream requests. Nil means a default client with a
	// tuned keep-alive pool (see NewHTTPClient).
	Client *http.Client
}

// Constructor builds a Provider from its configuration, validating it.
type Constructor func(cfg Config) (Provider, error)
