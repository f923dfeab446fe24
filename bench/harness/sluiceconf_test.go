package harness

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/config"
)

var featureCases = []struct {
	name    string
	src     string
	want    []Feature
	wantErr bool
}{
	{name: "none", src: "server:\n  listen: x\n"},
	{
		name: "on and off with notes",
		src:  "# bench-feature: key-auth on\n# bench-feature: metrics off  not implemented yet\nserver: {}\n",
		want: []Feature{{Name: "key-auth", On: true}, {Name: "metrics", Note: "not implemented yet"}},
	},
	{name: "indented", src: "  # bench-feature: cache off  by design\n", want: []Feature{{Name: "cache", Note: "by design"}}},
	{name: "bad state", src: "# bench-feature: cache maybe\n", wantErr: true},
	{name: "no state", src: "# bench-feature: cache\n", wantErr: true},
}

func TestParseFeatures(t *testing.T) {
	for _, tt := range featureCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFeatures([]byte(tt.src))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseFeatures (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRenderSluiceConfig(t *testing.T) {
	c := SluiceConfig{Listen: "127.0.0.1:4242", Upstream: "http://127.0.0.1:4343", DataDir: "/tmp/bench-data", ClientKey: ClientKey}
	tests := []struct {
		name         string
		wantFeatures []string // names, in order
	}{
		{"proxy", nil},
		{"production", []string{"key-auth", "rate-limits", "request-log", "metrics", "cache"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, fs, err := RenderSluiceConfig(tt.name, t.TempDir(), c)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, f := range fs {
				names = append(names, f.Name)
			}
			if diff := cmp.Diff(tt.wantFeatures, names); diff != "" {
				t.Errorf("features (-want +got):\n%s", diff)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{`listen: "127.0.0.1:4242"`, `base_url: "http://127.0.0.1:4343/v1"`, `data_dir: "/tmp/bench-data"`} {
				if !strings.Contains(string(b), want) {
					t.Errorf("rendered config lacks %q:\n%s", want, b)
				}
			}
			if strings.Contains(string(b), "{{") {
				t.Errorf("rendered config has an unexpanded action:\n%s", b)
			}
		})
	}
	if _, _, err := RenderSluiceConfig("no-such-config", t.TempDir(), c); err == nil {
		t.Error("RenderSluiceConfig of a missing template: no error")
	}
}

// TestSluiceAcceptsTheConfigs guards against schema drift: the gateway's
// strict loader (unknown keys fail) must accept both rendered configs.
func TestSluiceAcceptsTheConfigs(t *testing.T) {
	for _, name := range []string{"proxy", "production"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path, _, err := RenderSluiceConfig(name, dir, SluiceConfig{
				Listen: "127.0.0.1:4242", Upstream: "http://127.0.0.1:4343", DataDir: dir, ClientKey: ClientKey,
			})
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(path)
			if err != nil {
				t.Fatalf("config.Load: %v", err)
			}
			if len(cfg.Models) != 1 || cfg.Models[0].Name != "bench" {
				t.Errorf("models = %+v, want the one virtual model \"bench\"", cfg.Models)
			}
		})
	}
}

func TestClientKeyIsAGatewayKey(t *testing.T) {
	if _, ok := auth.ParseKey(ClientKey); !ok {
		t.Fatalf("ClientKey %q is not in the gateway key format, so key-auth runs would get 401", ClientKey)
	}
}
