package config

import (
	"path/filepath"
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
	defaultKeyRefresh        = Duration(2 * time.Second)
	defaultFailedPerMinute   = 30
	defaultStoreDriver       = "sqlite"
	defaultStoreFile         = "sluice.db"
	defaultLogQueueSize      = 10000
	defaultLogBatchSize      = 100
	defaultLogFlushInterval  = Duration(time.Second)
	defaultLogWriteTimeout   = Duration(5 * time.Second)
	defaultLogRetryInterval  = Duration(5 * time.Second)
	defaultLogMaxAge         = Duration(30 * 24 * time.Hour)
	defaultPayloadMaxBytes   = 64 << 10
	defaultWebhookBatchSize  = 100
	defaultWebhookFlush      = Duration(5 * time.Second)
	defaultWebhookRetries    = 5
	defaultServiceName       = "sluice"
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
	c.telemetryDefaults()
	c.routeDefaults()
	c.routingDefaults()
	c.clusterDefaults()
	c.limitsDefaults()
	c.budgetsDefaults()
	c.cacheDefaults()
	c.guardrailDefaults()
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

// telemetryDefaults fills the store, request_log, metrics and tracing
// sections.
func (c *Config) telemetryDefaults() {
	c.defaultTrue(&c.Auth.RequireKeys, "auth.require_keys")
	c.defaultDuration(&c.Auth.KeyRefresh, "auth.key_refresh", defaultKeyRefresh)
	c.defaultInt(&c.Auth.FailedPerMinute, "auth.failed_per_minute", defaultFailedPerMinute)
	c.authDefaults()
	st := &c.Store
	if st.Driver == "" {
		st.Driver = defaultStoreDriver
	}
	if st.Driver == defaultStoreDriver && st.DSN == "" {
		st.DSN = Secret(filepath.Join(c.Server.DataDir, defaultStoreFile))
	}
	l := &c.RequestLog
	c.defaultTrue(&l.Enabled, "request_log.enabled")
	c.defaultInt(&l.QueueSize, "request_log.queue_size", defaultLogQueueSize)
	c.defaultInt(&l.BatchSize, "request_log.batch_size", defaultLogBatchSize)
	c.defaultDuration(&l.FlushInterval, "request_log.flush_interval", defaultLogFlushInterval)
	c.defaultDuration(&l.WriteTimeout, "request_log.write_timeout", defaultLogWriteTimeout)
	c.defaultDuration(&l.RetryInterval, "request_log.retry_interval", defaultLogRetryInterval)
	c.defaultDuration(&l.Retention.MaxAge, "request_log.retention.max_age", defaultLogMaxAge)
	c.defaultInt(&l.Payloads.MaxBytes, "request_log.payloads.max_bytes", defaultPayloadMaxBytes)
	wh := &l.Export.Webhook
	c.defaultInt(&wh.BatchSize, "request_log.export.webhook.batch_size", defaultWebhookBatchSize)
	c.defaultDuration(&wh.FlushInterval, "request_log.export.webhook.flush_interval", defaultWebhookFlush)
	c.defaultInt(&wh.MaxRetries, "request_log.export.webhook.max_retries", defaultWebhookRetries)
	c.defaultTrue(&c.Metrics.Enabled, "metrics.enabled")
	if c.Tracing.ServiceName == "" {
		c.Tracing.ServiceName = defaultServiceName
	}
	if c.Tracing.SampleRatio == 0 && !c.src.explicit("tracing.sample_ratio") {
		c.Tracing.SampleRatio = 1
	}
}

// defaultTrue sets a switch that is on unless the file says false.
func (c *Config) defaultTrue(b *bool, path string) {
	if !*b && !c.src.explicit(path) {
		*b = true
	}
}

func (c *Config) defaultInt(i *int, path string, def int) {
	if *i == 0 && !c.src.explicit(path) {
		*i = def
	}
}

func (c *Config) defaultDuration(d *Duration, path string, def Duration) {
	if *d == 0 && !c.src.explicit(path) {
		*d = def
	}
}
