// Package vault seals provider API keys for storage: AES-256-GCM under the
// master key an operator sets in SLUICE_MASTER_KEY, each sealed value bound
// to the row it belongs to. It parses the master key, seals, opens and
// names the master key by a fingerprint that never reveals it.
package vault
