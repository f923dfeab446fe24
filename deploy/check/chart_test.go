package check

import (
	"encoding/base64"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
)

// kubeVersion is the cluster version the chart is rendered and linted for.
const kubeVersion = "v1.33.0"

// loadChart loads deploy/helm/sluice.
func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("loading the chart: %v", err)
	}
	return ch
}

// valuesFile reads a values file from testdata.
func valuesFile(t *testing.T, name string) map[string]any {
	t.Helper()
	v, err := chartutil.ReadValuesFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return v.AsMap()
}

// renderValues merges vals over the chart's values, as helm install does,
// validating them against values.schema.json.
func renderValues(ch *chart.Chart, vals map[string]any, release string) (chartutil.Values, error) {
	kv, err := chartutil.ParseKubeVersion(kubeVersion)
	if err != nil {
		return nil, err
	}
	caps := *chartutil.DefaultCapabilities
	caps.KubeVersion = *kv
	opts := chartutil.ReleaseOptions{Name: release, Namespace: "gateway", Revision: 1, IsInstall: true}
	return chartutil.ToRenderValues(ch, vals, opts, &caps)
}

// renderChart renders the chart strictly (a missing value is an error)
// and decodes every object; it returns them and NOTES.txt.
func renderChart(t *testing.T, vals map[string]any, release string) (*objects, string) {
	t.Helper()
	ch := loadChart(t)
	rv, err := renderValues(ch, vals, release)
	if err != nil {
		t.Fatalf("values: %v", err)
	}
	out, err := engine.Engine{Strict: true}.Render(ch, rv)
	if err != nil {
		t.Fatalf("rendering: %v", err)
	}
	o := &objects{}
	var notes string
	for name, text := range out {
		if strings.HasSuffix(name, "NOTES.txt") {
			notes = text
			continue
		}
		for i, doc := range splitDocs([]byte(text)) {
			if err := o.add(doc); err != nil {
				t.Errorf("%s, document %d: %v\n%s", name, i+1, err, text)
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return o, notes
}

// TestChartDefaults renders the default values under a release name that
// differs from the chart's, so every cross-reference goes through the
// full name.
func TestChartDefaults(t *testing.T) {
	o, notes := renderChart(t, nil, "prod")
	cfg := checkSet(t, o, expect{replicas: 3, secretName: "prod-sluice"})
	if len(o.HPAs) != 0 || len(o.Ingresses) != 0 || len(o.ServiceMonitors) != 0 {
		t.Errorf("HPAs %d, Ingresses %d, ServiceMonitors %d: want none by default", len(o.HPAs), len(o.Ingresses), len(o.ServiceMonitors))
	}
	if len(o.PDBs) != 1 || len(o.Secrets) != 1 || len(o.ServiceAccounts) != 1 {
		t.Errorf("PDBs %d, Secrets %d, ServiceAccounts %d: want 1 each", len(o.PDBs), len(o.Secrets), len(o.ServiceAccounts))
	}
	if cfg.Limits.Replicas != 3 || cfg.Server.DataDir != "/var/lib/sluice" || cfg.Server.Listen != "0.0.0.0:8080" {
		t.Errorf("limits.replicas %d, data_dir %q, listen %q: want 3, /var/lib/sluice, 0.0.0.0:8080",
			cfg.Limits.Replicas, cfg.Server.DataDir, cfg.Server.Listen)
	}
	s := o.Secrets[0]
	if s.Annotations["helm.sh/resource-policy"] != "keep" {
		t.Error("the Secret is not kept on uninstall: the master key would be lost")
	}
	if k := string(s.Data["SLUICE_ADMIN_KEY"]); len(k) != 48 {
		t.Errorf("generated admin key has %d characters, want 48", len(k))
	}
	if raw, err := base64.StdEncoding.DecodeString(string(s.Data["SLUICE_MASTER_KEY"])); err != nil || len(raw) != 32 {
		t.Errorf("generated master key: %d bytes (%v), want 32 in base64", len(raw), err)
	}
	if _, ok := s.Data["SLUICE_DATABASE_URL"]; ok {
		t.Error("SLUICE_DATABASE_URL set without secret.databaseURL")
	}
	for _, want := range []string{"WARNING: secret.databaseURL", "No provider is configured", "prod-sluice.gateway.svc:8080"} {
		if !strings.Contains(notes, want) {
			t.Errorf("NOTES.txt lacks %q:\n%s", want, notes)
		}
	}
}

// TestChartAllOn renders every optional object, with the Secret's values
// given, and checks them like the plain manifests.
func TestChartAllOn(t *testing.T) {
	o, notes := renderChart(t, valuesFile(t, "values-all.yaml"), "sluice")
	cfg := checkSet(t, o, expect{replicas: 0, secretName: "sluice", secretComplete: true})
	if len(o.HPAs) != 1 || len(o.PDBs) != 1 || len(o.Ingresses) != 1 || len(o.ServiceMonitors) != 1 {
		t.Errorf("HPAs %d, PDBs %d, Ingresses %d, ServiceMonitors %d: want 1 each", len(o.HPAs), len(o.PDBs), len(o.Ingresses), len(o.ServiceMonitors))
	}
	if cfg.Limits.Replicas != 4 {
		t.Errorf("limits.replicas = %d, want the HPA's minimum 4", cfg.Limits.Replicas)
	}
	if len(cfg.Providers) != 1 || cfg.Providers[0].Name != "openai" {
		t.Errorf("providers %+v, want openai from the values", cfg.Providers)
	}
	env := secretEnv(o.Secrets[0])
	if env["SLUICE_ADMIN_KEY"] != "admin-key-for-tests-0123456789abcdef" || env["OPENAI_API_KEY"] != "sk-test" {
		t.Errorf("the Secret does not hold the given values: %v", keys(env))
	}
	if paths := o.Ingresses[0].Spec.Rules[0].HTTP.Paths; len(paths) != 3 || o.Ingresses[0].Spec.TLS[0].SecretName != "llm-tls" {
		t.Errorf("Ingress paths %d, TLS %+v: want 3 and llm-tls", len(paths), o.Ingresses[0].Spec.TLS)
	}
	if strings.Contains(notes, "WARNING") || !strings.Contains(notes, "https://llm.example.com/v1") {
		t.Errorf("NOTES.txt:\n%s", notes)
	}
}

// TestChartExistingSecret checks that existingSecret replaces the chart's
// Secret.
func TestChartExistingSecret(t *testing.T) {
	o, notes := renderChart(t, map[string]any{"existingSecret": "sluice-env"}, "sluice")
	if len(o.Secrets) != 0 {
		t.Errorf("%d Secrets rendered with existingSecret", len(o.Secrets))
	}
	checkSet(t, o, expect{replicas: 3, secretName: "sluice-env"})
	if strings.Contains(notes, "WARNING") {
		t.Errorf("NOTES.txt warns although existingSecret is set:\n%s", notes)
	}
}

// TestChartSchema checks that values.schema.json refuses wrong values
// before anything is rendered.
func TestChartSchema(t *testing.T) {
	ch := loadChart(t)
	cases := []struct {
		name string
		vals map[string]any
		ok   bool
	}{
		{"defaults", nil, true},
		{"all on", valuesFile(t, "values-all.yaml"), true},
		{"misspelt key", map[string]any{"replicaCont": 2}, false},
		{"replicas as text", map[string]any{"replicaCount": "three"}, false},
		{"zero replicas", map[string]any{"replicaCount": 0}, false},
		{"pull policy", map[string]any{"image": map[string]any{"pullPolicy": "Sometimes"}}, false},
		{"database URL scheme", map[string]any{"secret": map[string]any{"databaseURL": "mysql://db/sluice"}}, false},
		{"env name", map[string]any{"secret": map[string]any{"env": map[string]any{"BAD-NAME": "x"}}}, false},
		{"ingress path", map[string]any{"ingress": map[string]any{"hosts": []any{map[string]any{"host": "h", "paths": []any{"v1"}}}}}, false},
		{"cpu target", map[string]any{"autoscaling": map[string]any{"targetCPUUtilizationPercentage": 170}}, false},
		{"memory", map[string]any{"resources": map[string]any{"limits": map[string]any{"memory": "lots"}}}, false},
		{"GOMEMLIMIT", map[string]any{"goMemLimit": "900MB"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := renderValues(ch, tc.vals, "sluice")
			if (err == nil) != tc.ok {
				t.Errorf("error = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestChartLint runs Helm's linter on the chart with the default values
// and with every part on; any error or warning fails.
func TestChartLint(t *testing.T) {
	kv, err := chartutil.ParseKubeVersion(kubeVersion)
	if err != nil {
		t.Fatal(err)
	}
	for name, vals := range map[string]map[string]any{"defaults": nil, "all on": valuesFile(t, "values-all.yaml")} {
		t.Run(name, func(t *testing.T) {
			l := lint.AllWithKubeVersion(chartDir, vals, "gateway", kv)
			for _, m := range l.Messages {
				if m.Severity >= support.WarningSev {
					t.Errorf("%s", m)
				} else {
					t.Logf("%s", m)
				}
			}
		})
	}
}

// keys lists a map's keys, for messages that must not print values.
func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
