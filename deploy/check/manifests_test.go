package check

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// kustomization is the part of a kustomization.yaml the manifests use.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
}

// loadManifests decodes every manifest file in deploy/kubernetes strictly;
// with the example, ingress-example.yaml too.
func loadManifests(t *testing.T, withExample bool) *objects {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(manifestsDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s (%v)", manifestsDir, err)
	}
	o := &objects{}
	for _, f := range files {
		base := filepath.Base(f)
		if base == "kustomization.yaml" || (!withExample && strings.Contains(base, "example")) {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs := splitDocs(data)
		if len(docs) == 0 {
			t.Errorf("%s: no object", base)
		}
		for i, doc := range docs {
			if err := o.add(doc); err != nil {
				t.Errorf("%s, document %d: %v", base, i+1, err)
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return o
}

// TestManifests decodes every manifest in deploy/kubernetes strictly and
// checks that they add up to a working deployment.
func TestManifests(t *testing.T) {
	o := loadManifests(t, true)
	if len(o.Ingresses) != 1 || len(o.HPAs) != 1 || len(o.PDBs) != 1 || len(o.Secrets) != 1 || len(o.ServiceAccounts) != 1 {
		t.Errorf("ingresses %d, HPAs %d, PDBs %d, Secrets %d, ServiceAccounts %d: want 1 each",
			len(o.Ingresses), len(o.HPAs), len(o.PDBs), len(o.Secrets), len(o.ServiceAccounts))
	}
	cfg := checkSet(t, o, expect{replicas: 3, secretName: "sluice", secretComplete: true})
	if cfg.Limits.Replicas != 3 {
		t.Errorf("limits.replicas = %d, want the Deployment's 3", cfg.Limits.Replicas)
	}
	if !cfg.Server.WatchConfig {
		t.Error("server.watch_config is off: ConfigMap edits would need a restart")
	}
}

// TestManifestSecretIsPlaceholders guards against real-looking values in
// the example Secret: each one must say it is to be replaced.
func TestManifestSecretIsPlaceholders(t *testing.T) {
	o := loadManifests(t, false)
	if len(o.Secrets) != 1 {
		t.Fatalf("%d Secrets, want 1", len(o.Secrets))
	}
	s := o.Secrets[0]
	if len(s.Data) != 0 {
		t.Errorf("Secret has data %v: write placeholders as stringData", s.Data)
	}
	for _, k := range []string{"SLUICE_ADMIN_KEY", "SLUICE_MASTER_KEY", "SLUICE_DATABASE_URL", "SLUICE_REDIS_URL"} {
		if _, ok := s.StringData[k]; !ok {
			t.Errorf("Secret has no %s", k)
		}
	}
	for k, v := range s.StringData {
		if !strings.Contains(v, "REPLACE-ME") {
			t.Errorf("Secret %s = %q is not clearly a placeholder (no REPLACE-ME)", k, v)
		}
	}
}

// TestKustomization checks that kustomization.yaml lists every manifest
// but the example, and nothing else.
func TestKustomization(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(manifestsDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k kustomization
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Errorf("kustomization.yaml is %s %s", k.APIVersion, k.Kind)
	}
	files, _ := filepath.Glob(filepath.Join(manifestsDir, "*.yaml"))
	var want []string
	for _, f := range files {
		b := filepath.Base(f)
		if b != "kustomization.yaml" && !strings.Contains(b, "example") {
			want = append(want, b)
		}
	}
	got := slices.Clone(k.Resources)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("kustomization resources %v, want %v", got, want)
	}
}
