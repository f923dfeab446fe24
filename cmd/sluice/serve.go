package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/gateway"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/vault"
	"github.com/sluicehq/sluice/internal/version"
)

func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("serve", "sluice serve [--config FILE] [--listen ADDR]", stderr)
	path := fs.String("config", "", "YAML config `file`; without it, the embedded default (mock model, providers from env vars)")
	listen := fs.String("listen", "", "listen `address`, overriding server.listen")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	var cfg *config.Config
	var err error
	if *path != "" {
		cfg, err = config.Load(*path)
	} else {
		cfg, err = config.Default(os.Getenv)
	}
	if err != nil {
		return err
	}
	if *listen != "" {
		cfg.Server.Listen = *listen
	}
	if cfg.Path == "" && !loopback(cfg.Server.Listen) {
		// The embedded default asks clients for no key and would spend the
		// operator's provider keys for anyone who can reach it.
		return fmt.Errorf("serve: the embedded default config serves without keys and listens on loopback only; "+
			"write a config file to listen on %s", cfg.Server.Listen)
	}
	log := newLogger(stderr, cfg.Log)
	if err := os.MkdirAll(cfg.Server.DataDir, 0o750); err != nil {
		return fmt.Errorf("serve: data dir: %w", err)
	}
	svc, err := gateway.OpenServices(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		// The server has stopped: flush every queued record before exit.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
		defer cancel()
		if err := svc.Close(cctx); err != nil {
			log.Error("closing services", "error", err)
		}
	}()
	adminKey := os.Getenv("SLUICE_ADMIN_KEY")
	if adminKey == "" {
		if err := firstAdminKey(ctx, svc.Store, stderr); err != nil {
			return err
		}
	}
	opts := svc.Options(log, adminKey)
	if opts.Vault, err = masterKey(log); err != nil {
		return err
	}
	g, err := gateway.New(cfg, opts)
	if err != nil {
		return err
	}
	defer g.Close()
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	source := cfg.Path
	if source == "" {
		source = "embedded default"
	}
	var providers, models []string
	for _, p := range g.Router().Providers() {
		providers = append(providers, p.Name())
	}
	for _, m := range g.Router().VirtualModels() {
		models = append(models, m.Name)
	}
	log.Info("sluice listening", "addr", "http://"+ln.Addr().String(), "version", version.Version,
		"config", source, "providers", strings.Join(providers, ","), "models", strings.Join(models, ","))
	if cfg.Path == "" {
		log.Info("embedded default: /v1 is open without keys on this loopback listener; try model \"mock/echo\"")
	}
	log.Info("store", "driver", cfg.Store.Driver, "request_log", cfg.RequestLog.Enabled)
	if cfg.Auth.RequireKeys {
		log.Info("gateway keys required on /v1 and passthrough (create one with `sluice keys create` or POST /admin/v1/keys)")
	}
	stopReload := watchReloads(ctx, g, cfg, log, func(c *config.Config) {
		if *listen != "" {
			c.Server.Listen = *listen
		}
	})
	defer stopReload()
	return g.Serve(ctx, ln)
}

// watchReloads reloads the config file on SIGHUP and, with
// server.watch_config, when the file changes. A file that does not load
// is rejected with its reasons logged; the running config keeps serving.
// adjust reapplies command-line overrides. The returned func stops it.
func watchReloads(ctx context.Context, g *gateway.Gateway, cfg *config.Config, log *slog.Logger, adjust func(*config.Config)) func() {
	ctx, cancel := context.WithCancel(ctx)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	reload := func(trigger string) {
		if cfg.Path == "" {
			log.Warn("config reload asked for, but the embedded default has no file to reload", "trigger", trigger)
			return
		}
		log.Info("reloading the config", "trigger", trigger, "config", cfg.Path)
		if err := g.ReloadFile(cfg.Path, adjust); err != nil {
			log.Error("config reload rejected", "trigger", trigger, "error", err)
		}
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				reload("SIGHUP")
			}
		}
	}()
	if cfg.Path != "" {
		log.Info("SIGHUP reloads the config file", "watch_config", cfg.Server.WatchConfig)
	}
	if cfg.Server.WatchConfig && cfg.Path != "" {
		go func() {
			if err := gateway.WatchConfig(ctx, cfg.Path, log, func() { reload("file change") }); err != nil {
				log.Error("cannot watch the config file; SIGHUP still reloads it", "error", err)
			}
		}()
	}
	return func() {
		signal.Stop(hup)
		cancel()
	}
}

// firstAdminKey creates an owner admin key when the store has no key at
// all and SLUICE_ADMIN_KEY is not set, and prints it once: without it
// nobody could administer a fresh gateway. It goes to stderr as a plain
// line, not through the structured log, which may be shipped elsewhere.
func firstAdminKey(ctx context.Context, db *store.DB, stderr io.Writer) error {
	n, err := db.CountKeys(ctx)
	if err != nil || n > 0 {
		return err
	}
	secret, err := auth.NewKey()
	if err != nil {
		return err
	}
	k := &store.Key{ID: auth.NewID("key_"), Name: "first admin", Role: auth.RoleOwner,
		Hash: auth.HashKey(secret), Prefix: auth.DisplayPrefix(secret)}
	if err := db.CreateKey(ctx, k); err != nil {
		return fmt.Errorf("serve: create the first admin key: %w", err)
	}
	fmt.Fprintf(stderr, "\nsluice: created the first admin key (role owner, id %s). It is shown only this once:\n\n    %s\n\n"+
		"Use it as Authorization: Bearer <key> on /admin/v1, e.g. to create gateway keys. Keep it secret.\n\n", k.ID, secret)
	return nil
}

// masterKey reads SLUICE_MASTER_KEY, which unlocks the provider-key
// vault. Unset, the vault stays locked (the gateway runs; stored provider
// keys are not used and no more can be stored); malformed, the gateway
// does not start. The key itself is never logged, only its fingerprint.
func masterKey(log *slog.Logger) (*vault.Vault, error) {
	raw := os.Getenv(vault.EnvMasterKey)
	if raw == "" {
		log.Info("provider-key vault locked: set " + vault.EnvMasterKey + " to store provider keys through /admin/v1/credentials")
		return nil, nil
	}
	v, err := vault.ParseMasterKey(raw)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	log.Info("provider-key vault unlocked", "master_id", v.ID())
	return v, nil
}

// closeTimeout bounds the flush of queued records and spans at exit.
const closeTimeout = 30 * time.Second

func newLogger(w io.Writer, c config.Log) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// loopback reports whether a listen address only accepts local connections.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
