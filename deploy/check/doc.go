// Package check tests Sluice's deployment files: the container image's
// Dockerfile and default config, the plain Kubernetes manifests in
// deploy/kubernetes and the Helm chart in deploy/helm/sluice. It is a
// module of its own so that the gateway's module stays free of Helm and
// Kubernetes dependencies; it holds only tests.
//
// The tests decode every object strictly into its Kubernetes API type
// (unknown fields are errors), render and lint the chart with Helm's own
// packages, check each config with the sluice binary (built once, the way
// the Dockerfile builds it) and start that binary with the image's config
// and, when SLUICE_TEST_POSTGRES and SLUICE_TEST_REDIS are set, with the
// cluster config as two replicas.
package check
