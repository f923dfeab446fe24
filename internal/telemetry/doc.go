// Package telemetry records what the gateway did: the durable request-log
// pipeline (a bounded queue, a batching writer, a spool for when the store
// is down, retention and export sinks), Prometheus metrics and
// OpenTelemetry traces. The request path only enqueues and counts.
package telemetry
