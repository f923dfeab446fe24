package check

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// manifestValues are the chart values that describe what the plain
// manifests in deploy/kubernetes deploy.
var manifestValues = map[string]any{
	"autoscaling": map[string]any{"enabled": true},
	"ingress": map[string]any{
		"enabled":   true,
		"className": "nginx",
		"annotations": map[string]any{
			"nginx.ingress.kubernetes.io/proxy-buffering":    "off",
			"nginx.ingress.kubernetes.io/proxy-read-timeout": "600",
			"nginx.ingress.kubernetes.io/proxy-send-timeout": "600",
			"nginx.ingress.kubernetes.io/proxy-body-size":    "10m",
		},
		"hosts": []any{map[string]any{"host": "sluice.example.com", "paths": []any{"/v1", "/admin"}}},
		"tls":   []any{map[string]any{"secretName": "sluice-tls", "hosts": []any{"sluice.example.com"}}},
	},
}

// TestChartMatchesManifests guards against drift between the chart and the
// plain manifests: rendered with the values above, the chart's pod spec,
// Service, HPA, PDB and Ingress specs equal the manifests', and so does
// the config apart from providers and models (examples in the manifests).
func TestChartMatchesManifests(t *testing.T) {
	m := loadManifests(t, true)
	c, _ := renderChart(t, manifestValues, "sluice")
	pairs := []struct {
		name        string
		plain, helm any
	}{
		{"pod spec", m.Deployments[0].Spec.Template.Spec, c.Deployments[0].Spec.Template.Spec},
		{"Deployment strategy", m.Deployments[0].Spec.Strategy, c.Deployments[0].Spec.Strategy},
		{"Service spec", m.Services[0].Spec, c.Services[0].Spec},
		{"HPA spec", m.HPAs[0].Spec, c.HPAs[0].Spec},
		{"PDB spec", m.PDBs[0].Spec, c.PDBs[0].Spec},
		{"Ingress spec", m.Ingresses[0].Spec, c.Ingresses[0].Spec},
		{"Ingress annotations", m.Ingresses[0].Annotations, c.Ingresses[0].Annotations},
		{"config", configSansExamples(t, m), configSansExamples(t, c)},
	}
	for _, p := range pairs {
		if d := cmp.Diff(normalize(t, p.plain), normalize(t, p.helm)); d != "" {
			t.Errorf("%s differs (-manifests +chart):\n%s", p.name, d)
		}
	}
	if a, b := m.Deployments[0].Spec.Template.Labels, c.Deployments[0].Spec.Template.Labels; !cmp.Equal(a, b) {
		t.Errorf("pod labels differ: manifests %v, chart %v", a, b)
	}
}

// configSansExamples is the set's config file without its providers and
// models.
func configSansExamples(t *testing.T, o *objects) map[string]any {
	t.Helper()
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(o.ConfigMaps[0].Data["sluice.yaml"]), &cfg); err != nil {
		t.Fatal(err)
	}
	delete(cfg, "providers")
	delete(cfg, "models")
	return cfg
}

// normalize turns a value into its JSON form, so that quantities and
// int-or-strings compare by what they say.
func normalize(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
