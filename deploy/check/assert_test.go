package check

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// expect is what a set of objects must add up to.
type expect struct {
	// replicas is the Deployment's replicas; 0: unset (an HPA owns them).
	replicas int32
	// secretName is the Secret the pods take their environment from.
	secretName string
	// secretComplete: the Secret in the set holds every variable the
	// config needs; otherwise made-up values fill the gaps.
	secretComplete bool
}

// The made-up values a config is checked with when the set does not hold
// them (the pod's name comes from the downward API).
var fakeEnv = map[string]string{
	"SLUICE_DATABASE_URL": "postgres://sluice:pw@postgres.invalid:5432/sluice?sslmode=require",
	"SLUICE_REDIS_URL":    "redis://redis.invalid:6379/0",
	"OPENAI_API_KEY":      "sk-test",
}

// podName stands for metadata.name in SLUICE_NODE_ID.
const podName = "sluice-7d4b9c-abcde"

// checkSet checks the properties that make the objects a working Sluice
// deployment, and returns the config the pods run.
func checkSet(t *testing.T, o *objects, want expect) effectiveConfig {
	t.Helper()
	for _, n := range []struct {
		kind string
		got  int
	}{{"Deployment", len(o.Deployments)}, {"ConfigMap", len(o.ConfigMaps)}, {"Service", len(o.Services)}} {
		if n.got != 1 {
			t.Fatalf("%d %s objects, want 1", n.got, n.kind)
		}
	}
	for name, meta := range o.all() {
		if meta.Namespace != "" {
			t.Errorf("%s: namespace %q: the objects must be namespace-agnostic", name, meta.Namespace)
		}
		if meta.Labels["app.kubernetes.io/name"] == "" {
			t.Errorf("%s: no app.kubernetes.io/name label", name)
		}
	}
	d := o.Deployments[0]
	cfg := checkConfigMap(t, o, d)
	checkDeployment(t, o, d, cfg, want)
	checkService(t, o, d)
	checkScaling(t, o, d)
	checkIngress(t, o)
	return cfg
}

// podLabels returns the pod template's labels, checking that the
// Deployment's selector matches them.
func podLabels(t *testing.T, d appsv1.Deployment) labels.Set {
	t.Helper()
	set := labels.Set(d.Spec.Template.Labels)
	if !selects(t, d.Spec.Selector, set) {
		t.Errorf("Deployment selector %v does not match its pod labels %v", d.Spec.Selector, set)
	}
	return set
}

// selects reports whether a non-empty label selector matches set.
func selects(t *testing.T, sel *metav1.LabelSelector, set labels.Set) bool {
	t.Helper()
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		t.Errorf("empty label selector: it would select every pod")
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Errorf("label selector %v: %v", sel, err)
		return false
	}
	return s.Matches(set)
}

// container returns the Deployment's only container.
func container(t *testing.T, d appsv1.Deployment) corev1.Container {
	t.Helper()
	cs := d.Spec.Template.Spec.Containers
	if len(cs) != 1 {
		t.Fatalf("%d containers, want 1", len(cs))
	}
	return cs[0]
}

// checkConfigMap checks that the config file the pods mount loads with the
// environment the pods get, and returns its effective config.
func checkConfigMap(t *testing.T, o *objects, d appsv1.Deployment) effectiveConfig {
	t.Helper()
	cm := o.ConfigMaps[0]
	text, ok := cm.Data[path.Base(imageConfigPath(t))]
	if !ok {
		t.Fatalf("ConfigMap %s has no key %q", cm.Name, path.Base(imageConfigPath(t)))
	}
	env := map[string]string{}
	for k, v := range fakeEnv {
		env[k] = v
	}
	for _, s := range o.Secrets {
		for k, v := range secretEnv(s) {
			env[k] = v
		}
	}
	for _, e := range container(t, d).Env {
		if e.Value != "" {
			env[e.Name] = e.Value
		}
	}
	env["SLUICE_NODE_ID"] = podName
	cfg := checkConfig(t, text, env)
	if cfg.Cluster.NodeID != podName {
		t.Errorf("cluster.node_id = %q, want the pod's name %q from SLUICE_NODE_ID", cfg.Cluster.NodeID, podName)
	}
	if cfg.Store.Driver != "postgres" {
		t.Errorf("store.driver = %q: replicas must share PostgreSQL", cfg.Store.Driver)
	}
	if cfg.Cluster.RedisURL == "" || cfg.Limits.Backend != "redis" {
		t.Errorf("cluster.redis_url unset or limits.backend %q: replicas must share Redis", cfg.Limits.Backend)
	}
	if !cfg.Metrics.Enabled {
		t.Error("metrics.enabled is false")
	}
	if host, _, _ := strings.Cut(cfg.Server.Listen, ":"); host != "0.0.0.0" && host != "" {
		t.Errorf("server.listen %q: must listen on every interface of the pod", cfg.Server.Listen)
	}
	return cfg
}

// checkDeployment checks the pod template: security, probes, resources,
// volumes, shutdown, environment and spreading.
func checkDeployment(t *testing.T, o *objects, d appsv1.Deployment, cfg effectiveConfig, want expect) {
	t.Helper()
	set := podLabels(t, d)
	spec := d.Spec.Template.Spec
	c := container(t, d)
	switch {
	case want.replicas == 0 && d.Spec.Replicas != nil:
		t.Errorf("replicas = %d, want unset (the HPA owns them)", *d.Spec.Replicas)
	case want.replicas != 0 && (d.Spec.Replicas == nil || *d.Spec.Replicas != want.replicas):
		t.Errorf("replicas = %s, want %d", ptrString(d.Spec.Replicas), want.replicas)
	}
	// Non-root, read-only, no privileges.
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("pod securityContext %+v: want runAsNonRoot and a non-zero runAsUser", psc)
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
		t.Errorf("container securityContext %+v: want readOnlyRootFilesystem, no privilege escalation, drop ALL", sc)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Error("automountServiceAccountToken is not false")
	}
	for _, sa := range o.ServiceAccounts {
		if spec.ServiceAccountName != sa.Name {
			t.Errorf("serviceAccountName %q, want the set's ServiceAccount %q", spec.ServiceAccountName, sa.Name)
		}
	}
	// The image's entrypoint runs; its config path is the ConfigMap.
	if len(c.Command) != 0 || len(c.Args) != 0 {
		t.Errorf("command %q args %q: the image's entrypoint must run", c.Command, c.Args)
	}
	if !strings.Contains(c.Image, ":") || strings.HasSuffix(c.Image, ":") {
		t.Errorf("image %q has no tag", c.Image)
	}
	checkMounts(t, o, d, cfg)
	// The port, the probes, the metrics annotations.
	port := cfg.port(t)
	if p := findPort(c, "http"); p == nil || p.ContainerPort != port {
		t.Errorf("container port http = %+v, want %d (server.listen)", p, port)
	}
	checkProbe(t, "startupProbe", c.StartupProbe, "/healthz")
	checkProbe(t, "livenessProbe", c.LivenessProbe, "/healthz")
	checkProbe(t, "readinessProbe", c.ReadinessProbe, "/readyz")
	if a := d.Spec.Template.Annotations; a["prometheus.io/scrape"] != "true" ||
		a["prometheus.io/port"] != strconv.Itoa(int(port)) || a["prometheus.io/path"] != "/metrics" {
		t.Errorf("pod annotations %v: want prometheus.io scrape, port %d, path /metrics", a, port)
	}
	checkResources(t, c)
	checkShutdown(t, spec, c, cfg)
	checkEnv(t, o, c, want)
	if len(spec.TopologySpreadConstraints) == 0 {
		t.Error("no topologySpreadConstraints")
	}
	for _, tsc := range spec.TopologySpreadConstraints {
		if !selects(t, tsc.LabelSelector, set) {
			t.Errorf("topology spread on %s does not select the pods", tsc.TopologyKey)
		}
	}
}

// findPort returns the container's port of that name.
func findPort(c corev1.Container, name string) *corev1.ContainerPort {
	for i := range c.Ports {
		if c.Ports[i].Name == name {
			return &c.Ports[i]
		}
	}
	return nil
}

// checkProbe checks an HTTP probe on the named port http.
func checkProbe(t *testing.T, name string, p *corev1.Probe, path string) {
	t.Helper()
	if p == nil || p.HTTPGet == nil {
		t.Errorf("%s: none, want GET %s", name, path)
		return
	}
	if p.HTTPGet.Path != path || p.HTTPGet.Port.String() != "http" {
		t.Errorf("%s: GET %s on port %s, want %s on http", name, p.HTTPGet.Path, p.HTTPGet.Port.String(), path)
	}
}

// checkMounts checks the config mount (where the image's entrypoint reads
// it), the writable data_dir and /tmp, and that every mount has a volume.
func checkMounts(t *testing.T, o *objects, d appsv1.Deployment, cfg effectiveConfig) {
	t.Helper()
	spec := d.Spec.Template.Spec
	vols := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		vols[v.Name] = v
	}
	mounts := map[string]corev1.Volume{}
	for _, m := range container(t, d).VolumeMounts {
		v, ok := vols[m.Name]
		if !ok {
			t.Errorf("volumeMount %s: no volume %q", m.MountPath, m.Name)
			continue
		}
		if m.SubPath != "" {
			t.Errorf("volumeMount %s uses subPath: ConfigMap updates would not reach it", m.MountPath)
		}
		mounts[m.MountPath] = v
	}
	cfgPath := imageConfigPath(t)
	if v := mounts[path.Dir(cfgPath)]; v.ConfigMap == nil || v.ConfigMap.Name != o.ConfigMaps[0].Name {
		t.Errorf("%s is not the ConfigMap %s (the image reads %s)", path.Dir(cfgPath), o.ConfigMaps[0].Name, cfgPath)
	}
	for _, dir := range []string{cfg.Server.DataDir, "/tmp"} {
		if v := mounts[dir]; v.EmptyDir == nil && v.PersistentVolumeClaim == nil {
			t.Errorf("%s: no writable volume mounted (the root filesystem is read-only)", dir)
		}
	}
}

// checkResources checks requests and limits, and GOMEMLIMIT below the
// memory limit.
func checkResources(t *testing.T, c corev1.Container) {
	t.Helper()
	r := c.Resources
	for _, q := range []struct {
		name string
		list corev1.ResourceList
		res  corev1.ResourceName
	}{{"requests", r.Requests, corev1.ResourceCPU}, {"requests", r.Requests, corev1.ResourceMemory}, {"limits", r.Limits, corev1.ResourceMemory}} {
		if v, ok := q.list[q.res]; !ok || v.IsZero() {
			t.Errorf("resources.%s.%s not set", q.name, q.res)
		}
	}
	limit := r.Limits[corev1.ResourceMemory]
	for _, e := range c.Env {
		if e.Name != "GOMEMLIMIT" {
			continue
		}
		q, err := resource.ParseQuantity(strings.TrimSuffix(e.Value, "B"))
		if err != nil {
			t.Errorf("GOMEMLIMIT %q: %v", e.Value, err)
		} else if q.Cmp(limit) >= 0 {
			t.Errorf("GOMEMLIMIT %s is not below the memory limit %s", e.Value, limit.String())
		}
	}
}

// checkShutdown checks that the pod lives through preStop, the drain and
// the request-log flush.
func checkShutdown(t *testing.T, spec corev1.PodSpec, c corev1.Container, cfg effectiveConfig) {
	t.Helper()
	var sleep int64
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil || c.Lifecycle.PreStop.Sleep.Seconds <= 0 {
		t.Error("no preStop sleep: the pod could get requests after SIGTERM closed its listener")
	} else {
		sleep = c.Lifecycle.PreStop.Sleep.Seconds
	}
	const flush = 30 // closeTimeout in cmd/sluice/serve.go
	need := sleep + int64(cfg.shutdownGrace(t).Seconds()) + flush
	if g := spec.TerminationGracePeriodSeconds; g == nil || *g <= need {
		t.Errorf("terminationGracePeriodSeconds = %s, want more than preStop %ds + shutdown_grace %s + flush %ds",
			ptrString(g), sleep, cfg.Server.ShutdownGrace, flush)
	}
}

// checkEnv checks SLUICE_NODE_ID and the Secret the environment comes from.
func checkEnv(t *testing.T, o *objects, c corev1.Container, want expect) {
	t.Helper()
	nodeID := false
	for _, e := range c.Env {
		if e.Name == "SLUICE_NODE_ID" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name" {
			nodeID = true
		}
	}
	if !nodeID {
		t.Error("SLUICE_NODE_ID does not come from metadata.name")
	}
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef == nil || c.EnvFrom[0].SecretRef.Name != want.secretName {
		t.Errorf("envFrom %+v, want the Secret %q", c.EnvFrom, want.secretName)
	}
	for _, s := range o.Secrets {
		if s.Name != want.secretName {
			t.Errorf("Secret %q in the set, but the pods read %q", s.Name, want.secretName)
		}
	}
	if !want.secretComplete {
		return
	}
	if len(o.Secrets) != 1 {
		t.Fatalf("%d Secrets, want 1", len(o.Secrets))
	}
	env := secretEnv(o.Secrets[0])
	vars := append(requiredVars(o.ConfigMaps[0].Data["sluice.yaml"]), "SLUICE_ADMIN_KEY", "SLUICE_MASTER_KEY")
	for _, v := range vars {
		if env[v] == "" {
			t.Errorf("the Secret lacks %s", v)
		}
	}
}

// checkService checks that the Service selects the pods on their http port.
func checkService(t *testing.T, o *objects, d appsv1.Deployment) {
	t.Helper()
	s := o.Services[0]
	sel := &metav1.LabelSelector{MatchLabels: s.Spec.Selector}
	if !selects(t, sel, labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("Service selector %v does not select the pods %v", s.Spec.Selector, d.Spec.Template.Labels)
	}
	if s.Spec.Type != corev1.ServiceTypeClusterIP {
		t.Errorf("Service type %q, want ClusterIP", s.Spec.Type)
	}
	if len(s.Spec.Ports) != 1 || s.Spec.Ports[0].Name != "http" || s.Spec.Ports[0].TargetPort.String() != "http" {
		t.Errorf("Service ports %+v, want one named http to the pods' http", s.Spec.Ports)
	}
}

// checkScaling checks the HPA and the PDB, when present.
func checkScaling(t *testing.T, o *objects, d appsv1.Deployment) {
	t.Helper()
	for _, h := range o.HPAs {
		ref := h.Spec.ScaleTargetRef
		if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != d.Name {
			t.Errorf("HPA targets %+v, want Deployment %s", ref, d.Name)
		}
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 2 || h.Spec.MaxReplicas < *h.Spec.MinReplicas {
			t.Errorf("HPA replicas %s..%d: want at least 2, max above min", ptrString(h.Spec.MinReplicas), h.Spec.MaxReplicas)
		}
		if len(h.Spec.Metrics) != 1 || h.Spec.Metrics[0].Resource == nil || h.Spec.Metrics[0].Resource.Name != corev1.ResourceCPU ||
			h.Spec.Metrics[0].Resource.Target.AverageUtilization == nil || *h.Spec.Metrics[0].Resource.Target.AverageUtilization != 70 {
			t.Errorf("HPA metrics %+v, want CPU at 70%% utilization", h.Spec.Metrics)
		}
	}
	for _, p := range o.PDBs {
		if !selects(t, p.Spec.Selector, labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("PDB selector %v does not select the pods", p.Spec.Selector)
		}
		if (p.Spec.MinAvailable == nil) == (p.Spec.MaxUnavailable == nil) {
			t.Error("PDB: want exactly one of minAvailable and maxUnavailable")
		}
		if m := p.Spec.MaxUnavailable; m != nil && m.IntValue() < 1 {
			t.Errorf("PDB maxUnavailable %s blocks every eviction", m.String())
		}
	}
}

// checkIngress checks that ingress paths reach the Service's http port and
// leave /metrics inside the cluster.
func checkIngress(t *testing.T, o *objects) {
	t.Helper()
	svc := o.Services[0]
	for _, ing := range o.Ingresses {
		for _, r := range ing.Spec.Rules {
			if r.HTTP == nil || len(r.HTTP.Paths) == 0 {
				t.Errorf("Ingress rule for %q has no paths", r.Host)
				continue
			}
			for _, p := range r.HTTP.Paths {
				b := p.Backend.Service
				if b == nil || b.Name != svc.Name || b.Port.Name != svc.Spec.Ports[0].Name {
					t.Errorf("Ingress path %s: backend %+v, want Service %s port http", p.Path, b, svc.Name)
				}
				if p.Path == "/" || strings.HasPrefix("/metrics", p.Path) {
					t.Errorf("Ingress path %s exposes /metrics", p.Path)
				}
			}
		}
	}
	for _, sm := range o.ServiceMonitors {
		if !selects(t, &sm.Spec.Selector, labels.Set(svc.Labels)) {
			t.Errorf("ServiceMonitor selector %v does not select the Service's labels %v", sm.Spec.Selector, svc.Labels)
		}
		if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "http" || sm.Spec.Endpoints[0].Path != "/metrics" {
			t.Errorf("ServiceMonitor endpoints %+v, want port http path /metrics", sm.Spec.Endpoints)
		}
	}
}

// ptrString prints a pointer's value, or "unset".
func ptrString[T any](p *T) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprint(*p)
}
