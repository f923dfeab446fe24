package check

import (
	"fmt"
	"regexp"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// objects holds a set of decoded Kubernetes objects by kind.
type objects struct {
	ServiceAccounts []corev1.ServiceAccount
	ConfigMaps      []corev1.ConfigMap
	Secrets         []corev1.Secret
	Deployments     []appsv1.Deployment
	Services        []corev1.Service
	HPAs            []autoscalingv2.HorizontalPodAutoscaler
	PDBs            []policyv1.PodDisruptionBudget
	Ingresses       []networkingv1.Ingress
	ServiceMonitors []serviceMonitor
}

// serviceMonitor is the part of the Prometheus Operator's ServiceMonitor
// (monitoring.coreos.com/v1) the chart writes; decoding is strict, so a
// field the chart writes that is not listed here fails the test.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector  metav1.LabelSelector `json:"selector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Interval      string `json:"interval"`
			ScrapeTimeout string `json:"scrapeTimeout"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// docSep splits a YAML stream into documents.
var docSep = regexp.MustCompile(`(?m)^---[ \t]*$`)

// splitDocs returns the non-empty documents of a YAML stream (a document
// holding only comments is empty).
func splitDocs(data []byte) [][]byte {
	var docs [][]byte
	for _, d := range docSep.Split(string(data), -1) {
		if hasContent(d) {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

// hasContent reports whether a YAML document has anything but blank lines
// and comments.
func hasContent(doc string) bool {
	for _, line := range strings.Split(doc, "\n") {
		l := strings.TrimSpace(line)
		if l != "" && !strings.HasPrefix(l, "#") {
			return true
		}
	}
	return false
}

// add decodes one document strictly into the type its apiVersion and kind
// name and appends it; an unknown kind or field is an error.
func (o *objects) add(doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return fmt.Errorf("type meta: %w", err)
	}
	switch tm.APIVersion + " " + tm.Kind {
	case "v1 ServiceAccount":
		return decodeInto(doc, &o.ServiceAccounts)
	case "v1 ConfigMap":
		return decodeInto(doc, &o.ConfigMaps)
	case "v1 Secret":
		return decodeInto(doc, &o.Secrets)
	case "apps/v1 Deployment":
		return decodeInto(doc, &o.Deployments)
	case "v1 Service":
		return decodeInto(doc, &o.Services)
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return decodeInto(doc, &o.HPAs)
	case "policy/v1 PodDisruptionBudget":
		return decodeInto(doc, &o.PDBs)
	case "networking.k8s.io/v1 Ingress":
		return decodeInto(doc, &o.Ingresses)
	case "monitoring.coreos.com/v1 ServiceMonitor":
		return decodeInto(doc, &o.ServiceMonitors)
	}
	return fmt.Errorf("unexpected object %q %q", tm.APIVersion, tm.Kind)
}

// decodeInto decodes doc strictly (unknown and duplicate fields are
// errors) and appends the result to *list.
func decodeInto[T any](doc []byte, list *[]T) error {
	var v T
	if err := yaml.UnmarshalStrict(doc, &v); err != nil {
		return fmt.Errorf("strict decode: %w", err)
	}
	*list = append(*list, v)
	return nil
}

// all returns every object's metadata with its kind, for checks that apply
// to each object.
func (o *objects) all() map[string]metav1.ObjectMeta {
	m := map[string]metav1.ObjectMeta{}
	put := func(kind string, meta metav1.ObjectMeta) { m[kind+"/"+meta.Name] = meta }
	for _, x := range o.ServiceAccounts {
		put("ServiceAccount", x.ObjectMeta)
	}
	for _, x := range o.ConfigMaps {
		put("ConfigMap", x.ObjectMeta)
	}
	for _, x := range o.Secrets {
		put("Secret", x.ObjectMeta)
	}
	for _, x := range o.Deployments {
		put("Deployment", x.ObjectMeta)
	}
	for _, x := range o.Services {
		put("Service", x.ObjectMeta)
	}
	for _, x := range o.HPAs {
		put("HorizontalPodAutoscaler", x.ObjectMeta)
	}
	for _, x := range o.PDBs {
		put("PodDisruptionBudget", x.ObjectMeta)
	}
	for _, x := range o.Ingresses {
		put("Ingress", x.ObjectMeta)
	}
	for _, x := range o.ServiceMonitors {
		put("ServiceMonitor", x.ObjectMeta)
	}
	return m
}

// secretEnv returns a Secret's variables as the pod sees them.
func secretEnv(s corev1.Secret) map[string]string {
	env := map[string]string{}
	for k, v := range s.Data {
		env[k] = string(v)
	}
	for k, v := range s.StringData {
		env[k] = v
	}
	return env
}
