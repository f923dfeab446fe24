// Package config defines Sluice's YAML configuration: the schema with its
// defaults, strict loading (unknown keys and wrong types are errors naming
// file, line and key), ${ENV} expansion, and validation that reports every
// problem at once. A Config that Load returns is valid; nothing re-checks it
// per request.
package config
