// Package sse reads and writes Server-Sent Events as LLM providers use them:
// a bounded, allocation-light reader that tolerates upstreams which omit the
// blank line ending the last event, and a writer that always ends an event
// with one.
package sse
