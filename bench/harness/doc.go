// Package harness is Sluice's end-to-end benchmark: it starts the mock
// provider, the gateway under two configs, a bare Go reverse proxy and nginx
// as separate processes on loopback, drives each with wrk and vegeta and a
// streaming client, and renders one comparison table for docs/benchmarks.md.
// Everything it starts is stopped when Run returns, on error or interrupt too.
package harness
