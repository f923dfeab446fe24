// Package anthropic is the provider adapter for Anthropic's Messages API: it
// sends canonical chat requests to {base}/v1/messages with the account's
// key, reads whole and streamed answers back, lists models and aims
// passthrough requests. Translation lives in internal/codec/anthropic.
package anthropic
