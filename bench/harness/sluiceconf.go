package harness

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/store"
)

//go:embed configs/*.yaml
var configFS embed.FS

// ClientKey is the gateway key every benchmark client sends as a bearer
// token, to every system, so that request sizes are the same everywhere.
// It is a fixed test value in the real key format, not a secret; a config
// with key-auth on gets it stored before the gateway starts (ProvisionKey).
const ClientKey = "sk-sluice-Bench0123456789abcdefghijklmnopqrstuvwxyzAB"

// Limits the bench key gets when a config's rate-limits feature is on:
// far above any load, so the check runs on every request and never
// refuses.
const (
	BenchRPM = 100_000_000
	BenchTPM = 100_000_000_000
)

// ProvisionKey stores ClientKey as a gateway key in the store the rendered
// config at path names, as `sluice keys create` would with a random one;
// limited gives it BenchRPM and BenchTPM.
func ProvisionKey(ctx context.Context, path string, limited bool) error {
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, store.Config{Driver: cfg.Store.Driver, DSN: cfg.Store.DSN.Value()})
	if err != nil {
		return fmt.Errorf("provision key: %w", err)
	}
	defer db.Close()
	k := &store.Key{ID: auth.NewID("key_"), Name: "bench", Hash: auth.HashKey(ClientKey),
		Prefix: auth.DisplayPrefix(ClientKey)}
	if limited {
		k.RPM, k.TPM = BenchRPM, BenchTPM
	}
	if err := db.CreateKey(ctx, k); err != nil {
		return fmt.Errorf("provision key: %w", err)
	}
	return nil
}

// SluiceConfig is what a config template under configs/ needs.
type SluiceConfig struct {
	Listen    string // loopback host:port
	Upstream  string // the mock's base URL, without /v1
	DataDir   string // a fresh temporary directory
	ClientKey string
}

// Feature is one line "# bench-feature: NAME on|off  NOTE" of a config.
type Feature struct {
	Name string
	On   bool
	Note string
}

// RenderSluiceConfig renders configs/<name>.yaml with c into dir and
// returns the path of the result and the features it declares.
func RenderSluiceConfig(name, dir string, c SluiceConfig) (string, []Feature, error) {
	features, err := ConfigFeatures(name)
	if err != nil {
		return "", nil, err
	}
	src, _ := configFS.ReadFile("configs/" + name + ".yaml") // read by ConfigFeatures
	t, err := template.New(name).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return "", nil, fmt.Errorf("sluice config %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, c); err != nil {
		return "", nil, fmt.Errorf("sluice config %s: %w", name, err)
	}
	path := filepath.Join(dir, "sluice-"+name+".yaml")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		return "", nil, fmt.Errorf("sluice config %s: %w", name, err)
	}
	return path, features, nil
}

// ConfigFeatures returns the features configs/<name>.yaml declares.
func ConfigFeatures(name string) ([]Feature, error) {
	src, err := configFS.ReadFile("configs/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("sluice config %s: %w", name, err)
	}
	fs, err := ParseFeatures(src)
	if err != nil {
		return nil, fmt.Errorf("sluice config %s: %w", name, err)
	}
	return fs, nil
}

// ParseFeatures reads the "# bench-feature: NAME on|off  NOTE" lines of a
// config template. A config without such lines declares no features.
func ParseFeatures(src []byte) ([]Feature, error) {
	var fs []Feature
	for line := range strings.Lines(string(src)) {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "# bench-feature:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 2 || (f[1] != "on" && f[1] != "off") {
			return nil, fmt.Errorf("bench-feature line %q: want \"NAME on|off NOTE\"", strings.TrimSpace(line))
		}
		fs = append(fs, Feature{Name: f[0], On: f[1] == "on", Note: strings.Join(f[2:], " ")})
	}
	return fs, nil
}
