package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/telemetry"
)

// Services are the gateway's long-lived dependencies that do I/O, built
// from the config: the store, the request-log pipeline over it and the
// tracer. Open them before New, pass Options() to New, and Close them
// after the server has stopped, so every record of every finished request
// is flushed.
type Services struct {
	Store   *store.DB
	Records *telemetry.Pipeline // nil when request_log.enabled is false
	Tracer  *telemetry.Tracer
}

// OpenServices opens the store (applying migrations), starts the
// request-log pipeline (which replays records spooled by an earlier run)
// and the tracer.
func OpenServices(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Services, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db, err := store.Open(ctx, store.Config{Driver: cfg.Store.Driver, DSN: cfg.Store.DSN.Value()})
	if err != nil {
		return nil, fmt.Errorf("gateway: open store: %w", err)
	}
	s := &Services{Store: db}
	if rl := cfg.RequestLog; rl.Enabled {
		exps, err := exporters(rl.Export)
		if err != nil {
			s.Close(ctx)
			return nil, err
		}
		s.Records, err = telemetry.NewPipeline(db, telemetry.PipelineConfig{
			QueueSize:     rl.QueueSize,
			BatchSize:     rl.BatchSize,
			FlushInterval: rl.FlushInterval.Std(),
			WriteTimeout:  rl.WriteTimeout.Std(),
			SpoolDir:      filepath.Join(cfg.Server.DataDir, "spool"),
			RetryInterval: rl.RetryInterval.Std(),
			Retention: telemetry.Retention{
				MaxAge:     rl.Retention.MaxAge.Std(),
				MaxRecords: rl.Retention.MaxRecords,
			},
			Exporters: exps,
			Logger:    log,
		})
		if err != nil {
			closeExporters(exps)
			s.Close(ctx)
			return nil, fmt.Errorf("gateway: request log: %w", err)
		}
	}
	t := cfg.Tracing
	s.Tracer, err = telemetry.NewTracer(ctx, telemetry.TraceConfig{
		Enabled: t.Enabled, Endpoint: t.Endpoint.Value(), Headers: secretMap(t.Headers),
		ServiceName: t.ServiceName, SampleRatio: t.SampleRatio,
	})
	if err != nil {
		s.Close(ctx)
		return nil, fmt.Errorf("gateway: tracing: %w", err)
	}
	return s, nil
}

func exporters(c config.Export) ([]telemetry.Exporter, error) {
	var exps []telemetry.Exporter
	if c.File != "" {
		fe, err := telemetry.NewFileExporter(c.File)
		if err != nil {
			return nil, fmt.Errorf("gateway: export file: %w", err)
		}
		exps = append(exps, fe)
	}
	if wh := c.Webhook; wh.URL != "" {
		we, err := telemetry.NewWebhookExporter(telemetry.WebhookConfig{
			URL: wh.URL.Value(), Headers: secretMap(wh.Headers), BatchSize: wh.BatchSize,
			FlushInterval: wh.FlushInterval.Std(), MaxRetries: wh.MaxRetries,
		})
		if err != nil {
			closeExporters(exps)
			return nil, fmt.Errorf("gateway: export webhook: %w", err)
		}
		exps = append(exps, we)
	}
	return exps, nil
}

// closeExporters releases exporters that no pipeline will close.
func closeExporters(exps []telemetry.Exporter) {
	for _, e := range exps {
		if c, ok := e.(io.Closer); ok {
			c.Close()
		}
	}
}

// Options returns the gateway options that use these services.
func (s *Services) Options(log *slog.Logger, adminKey string) Options {
	return Options{Logger: log, Records: s.Records, Store: s.Store, AdminKey: adminKey, Tracer: s.Tracer}
}

// Close flushes queued records (to the store, or to the spool when the
// store is down), exports the last spans and closes the store, waiting
// at most until ctx ends.
func (s *Services) Close(ctx context.Context) error {
	var errs []error
	if s.Records != nil {
		errs = append(errs, s.Records.Close(ctx))
	}
	if s.Tracer != nil {
		errs = append(errs, s.Tracer.Shutdown(ctx))
	}
	if s.Store != nil {
		errs = append(errs, s.Store.Close())
	}
	return errors.Join(errs...)
}

func secretMap(m map[string]config.Secret) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v.Value()
	}
	return out
}
