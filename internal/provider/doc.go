// Package provider defines what an LLM provider adapter is: a small core
// interface (chat, streamed chat), optional capabilities discovered by type
// assertion (embeddings, model lists, passthrough), the catalog of provider
// types Sluice knows, and the shared HTTP plumbing adapters use. Each wire
// format has its own sub-package.
package provider
