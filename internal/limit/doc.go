// Package limit provides the gateway's rate and concurrency limits: a GCRA
// (generic cell rate algorithm) limiter for requests and tokens per period,
// with after-the-fact adjustment for token estimates, and a bound on
// concurrent requests. Two backends implement the same Limiter contract:
// Memory for a single node and Redis, with atomic Lua scripts and the
// server's clock, for replicas that share limits. SpikeDetector finds
// subjects (keys, addresses) whose request rate jumps far above their own
// recent baseline.
package limit
