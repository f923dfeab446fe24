package harness

import (
	"bytes"
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
)

//go:embed configs/*.yaml
var configFS embed.FS

// ClientKey is the gateway key every benchmark client sends as a bearer
// token, to every system, so that request sizes are the same everywhere.
// It is a fixed test value, not a secret.
const ClientKey = "sk-sluice-bench-0123456789abcdef"

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
