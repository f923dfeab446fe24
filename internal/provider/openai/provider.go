package openai

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	oaicodec "github.com/sluicehq/sluice/internal/codec/openai"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
	"github.com/sluicehq/sluice/internal/version"
)

// DefaultAzureAPIVersion is the api-version sent to Azure when the config
// names none.
const DefaultAzureAPIVersion = "2024-10-21"

// MaxResponseBody bounds a whole (non-streamed) upstream answer; a larger
// one is a 502 rather than unbounded memory.
const MaxResponseBody = 64 << 20

// Provider is an OpenAI-wire upstream. It is safe for concurrent use.
type Provider struct {
	name    string
	typ     string
	azure   bool
	base    *url.URL
	apiVer  string // Azure only
	timeout time.Duration
	client  *http.Client
	models  []string
	// header holds the credential and the static headers, sent with every
	// request (cloned per request).
	header http.Header
	// creds, when not nil, gives the key of each request in place of the
	// one in header (see setCredential).
	creds provider.Credentials
	// Precomputed endpoints (not for Azure, whose URLs hold the model).
	chatURL, embedURL, modelsURL *url.URL
	encode                       oaicodec.EncodeOptions
}

var (
	_ provider.Provider    = (*Provider)(nil)
	_ provider.Embedder    = (*Provider)(nil)
	_ provider.ModelLister = (*Provider)(nil)
	_ provider.Passthrough = (*Provider)(nil)
)

// New returns an adapter for cfg. cfg.Type must be a catalog type of the
// OpenAI wire ("openai" when empty); an empty BaseURL takes the type's
// default. BaseURL must be an absolute http(s) URL without query or
// fragment; for "azure" it is the resource endpoint
// (https://RESOURCE.openai.azure.com), without a path.
func New(cfg provider.Config) (provider.Provider, error) {
	if cfg.Type == "" {
		cfg.Type = "openai"
	}
	kind, ok := provider.LookupKind(cfg.Type)
	if !ok || kind.Wire != provider.WireOpenAI {
		return nil, fmt.Errorf("openai: provider type %q does not speak the OpenAI wire format", cfg.Type)
	}
	if cfg.Name == "" {
		cfg.Name = cfg.Type
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = kind.BaseURL
	}
	base, err := parseBaseURL(cfg.BaseURL, cfg.Type == "azure")
	if err != nil {
		return nil, fmt.Errorf("openai: provider %q: %w", cfg.Name, err)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("openai: provider %q: timeout must not be negative", cfg.Name)
	}
	p := &Provider{name: cfg.Name, typ: cfg.Type, azure: cfg.Type == "azure", base: base,
		timeout: cfg.Timeout, client: cfg.Client, models: cfg.Models, creds: cfg.Credentials,
		header: make(http.Header, len(cfg.Headers)+2),
		encode: oaicodec.EncodeOptions{Provider: cfg.Name, Type: cfg.Type}}
	if p.client == nil {
		p.client = provider.NewHTTPClient()
	}
	p.header.Set("User-Agent", "sluice/"+version.Version) // static headers may override it
	for k, v := range cfg.Headers {
		if !validHeaderName(k) || strings.ContainsAny(v, "\r\n\x00") {
			return nil, fmt.Errorf("openai: provider %q: invalid static header %q", cfg.Name, k)
		}
		p.header.Set(k, v)
	}
	if strings.ContainsAny(cfg.APIKey, "\r\n\x00") {
		return nil, fmt.Errorf("openai: provider %q: the API key holds a control character", cfg.Name)
	}
	if cfg.APIKey != "" {
		if p.azure {
			p.header.Set("Api-Key", cfg.APIKey)
		} else {
			p.header.Set("Authorization", "Bearer "+cfg.APIKey)
		}
	}
	if p.azure {
		p.apiVer = cfg.APIVersion
		if p.apiVer == "" {
			p.apiVer = DefaultAzureAPIVersion
		}
	} else {
		p.chatURL = provider.JoinURL(base, "chat/completions", "")
		p.embedURL = provider.JoinURL(base, "embeddings", "")
		p.modelsURL = provider.JoinURL(base, "models", "")
	}
	return p, nil
}

// Name returns the provider's configured name.
func (p *Provider) Name() string { return p.name }

func parseBaseURL(raw string, azure bool) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("base_url is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("base_url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("base_url %q: must be an absolute http or https URL", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("base_url %q: must not have a query, fragment or user info", raw)
	}
	if azure && strings.Trim(u.Path, "/") != "" {
		return nil, fmt.Errorf("base_url %q: an Azure base_url is the resource endpoint (https://RESOURCE.openai.azure.com), without a path", raw)
	}
	return u, nil
}

// validHeaderName reports whether k is an HTTP token.
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// azureURL returns the URL of a deployment's operation ("chat/completions",
// "embeddings"). The deployment is the request's model; it must be a single
// path segment.
func (p *Provider) azureURL(model, op string) (*url.URL, error) {
	if model == "" || model == "." || model == ".." || strings.ContainsAny(model, "/\\?#%") {
		e := llm.BadRequest("model", "%q is not a valid Azure deployment name", model)
		e.Provider = p.name
		return nil, e
	}
	return provider.JoinURL(p.base, "openai/deployments/"+model+"/"+op,
		"api-version="+url.QueryEscape(p.apiVer)), nil
}

// own fills in the provider's name on an error from the codec.
func (p *Provider) own(err error) error {
	var e *llm.Error
	if errors.As(err, &e) && e.Provider == "" {
		e.Provider = p.name
	}
	return err
}
