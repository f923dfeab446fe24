// Package anthropic converts between Anthropic's Messages API wire format and
// the canonical llm model, in both directions: client-facing (decode a
// /v1/messages request, encode the response, its event stream and errors)
// and upstream-facing (encode a request for Anthropic, decode its answers).
package anthropic
