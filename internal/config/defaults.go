package config

import (
	"time"

	"github.com/sluicehq/sluice/internal/provider"
)

// Defaults, as documented on the Config fields.
const (
	defaultListen            = "127.0.0.1:8080"
	defaultMaxBodyBytes      = 10 << 20
	defaultReadHeaderTimeout = Duration(10 * time.Second)
	defaultIdleTimeout       = Duration(120 * time.Second)
	defaultShutdownGrace     = Duration(30 * time.Second)
	defaultDataDir           = "./data"
	defaultLogLevel          = "info"
	defaultLogFormat         = "text"
	defaultProviderTimeout   = Duration(10 * time.Minute)
	defaultWeight            = 1
	strategyWeighted         = "weighted"
	strategyFallback         = "fallback"
)

// ApplyDefaults fills every field left empty with its documented default:
// strings that are "", and numbers and durations that are zero unless the
// zero was written in the file the Config was parsed from (a Config built
// in code has no file, so all its zeros take defaults). A provider's empty
// base_url becomes its type's catalog default, if the type has one.
// ApplyDefaults is idempotent and never fails; Validate judges the result.
func (c *Config) ApplyDefaults() {
	s := &c.Server
	if s.Listen == "" {
		s.Listen = defaultListen
	}
	if s.MaxBodyBytes == 0 && !c.src.explicit("server.max_body_bytes") {
		s.MaxBodyBytes = defaultMaxBodyBytes
	}
	c.defaultDuration(&s.ReadHeaderTimeout, "server.read_header_timeout", defaultReadHeaderTimeout)
	c.defaultDuration(&s.IdleTimeout, "server.idle_timeout", defaultIdleTimeout)
	c.defaultDuration(&s.ShutdownGrace, "server.shutdown_grace", defaultShutdownGrace)
	if s.DataDir == "" {
		s.DataDir = defaultDataDir
	}
	if c.Log.Level == "" {
		c.Log.Level = defaultLogLevel
	}
	if c.Log.Format == "" {
		c.Log.Format = defaultLogFormat
	}
	for i := range c.Providers {
		p := &c.Providers[i]
		if p.BaseURL == "" {
			if k, ok := provider.LookupKind(p.Type); ok {
				p.BaseURL = k.BaseURL
			}
		}
		if p.Timeout == 0 {
			c.defaultDuration(&p.Timeout, fieldPath(indexPath("providers", i), "timeout"), defaultProviderTimeout)
		}
	}
	for i := range c.Models {
		m := &c.Models[i]
		if m.Strategy == "" {
			m.Strategy = strategyWeighted
		}
		for j := range m.Targets {
			t := &m.Targets[j]
			if t.Weight == 0 && !c.src.explicit(indexPath(fieldPath(indexPath("models", i), "targets"), j)+".weight") {
				t.Weight = defaultWeight
			}
		}
	}
}

func (c *Config) defaultDuration(d *Duration, path string, def Duration) {
	if *d == 0 && !c.src.explicit(path) {
		*d = def
	}
}
