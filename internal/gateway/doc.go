// Package gateway is Sluice's request path: the HTTP surface (client API,
// passthrough, health), the transport middleware, and the pipeline of LLM
// stages that takes a canonical request from a client codec through the
// router to a provider and back. It wires the other packages; they do not
// import it.
package gateway
