package admin

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/llm"
)

// ProviderHealth is one configured provider and the live health of its
// targets, as GET /admin/v1/providers shows it.
type ProviderHealth struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Region string `json:"region"`
	// Down says an active health check finds the provider unreachable.
	Down    bool           `json:"down"`
	Targets []TargetHealth `json:"targets"`
}

// TargetHealth is one upstream model's circuit breaker and load.
type TargetHealth struct {
	Model string `json:"model"`
	// State is "closed", "half_open" or "open".
	State               string `json:"state"`
	ConsecutiveFailures int    `json:"consecutive_failures"`
	Failures            uint64 `json:"failures"`
	Successes           uint64 `json:"successes"`
	Opens               uint64 `json:"opens"`
	// LatencyMS and TTFTMS are decaying averages; 0 when unmeasured.
	LatencyMS   float64    `json:"latency_ms"`
	TTFTMS      float64    `json:"ttft_ms"`
	InFlight    int64      `json:"in_flight"`
	LastFailure *time.Time `json:"last_failure"`
	OpenedAt    *time.Time `json:"opened_at"`
}

// handleProviders serves GET /admin/v1/providers:
//
//	{"data":[{"name","type","region","down","targets":[{"model","state",…}]}]}
//
// Any admin role may read it; it holds no tenant data and no secrets.
func (s *server) handleProviders(_ http.ResponseWriter, _ *http.Request, c *call) error {
	if err := need(&c.p, auth.ReadLogs); err != nil {
		return err
	}
	var ps []ProviderHealth
	if s.health != nil {
		ps = s.health()
	}
	if ps == nil {
		ps = []ProviderHealth{}
	}
	for i := range ps {
		if ps[i].Targets == nil {
			ps[i].Targets = []TargetHealth{}
		}
	}
	body, err := json.Marshal(struct {
		Data []ProviderHealth `json:"data"`
	}{ps})
	if err != nil {
		return llm.AsError(err)
	}
	c.reply(http.StatusOK, body)
	return nil
}
