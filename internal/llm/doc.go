// Package llm defines Sluice's canonical model of an LLM exchange: the request,
// the whole response, the stream of deltas, token usage and the error. Every
// client-facing codec and every provider adapter converts to and from these
// types; nothing outside those converters knows a wire format.
//
// Invariants every converter keeps:
//
//   - System and developer instructions are Messages with RoleSystem or
//     RoleDeveloper, in the order the client gave them. Formats with a
//     separate system field (Anthropic, Gemini) move them in and out.
//   - A Message's content is an ordered list of Parts. Text, images, audio,
//     files, reasoning ("thinking") and refusals are Parts.
//   - Tool calls are Parts of kind PartToolCall inside RoleAssistant messages,
//     in the order the model produced them, interleaved with text when the
//     format allows it. Tool results are Parts of kind PartToolResult inside
//     RoleTool messages; a RoleTool message holds only tool results.
//   - ToolCall.Arguments is the raw JSON text of the arguments, exactly as the
//     model produced it (it may be invalid JSON: models make mistakes, and
//     the gateway does not repair them).
//   - Usage.InputTokens counts every prompt token, including those read from
//     or written to a provider's prompt cache (OpenAI's prompt_tokens
//     meaning); CachedInputTokens and CacheWriteTokens are subsets of it.
//     Usage.OutputTokens includes ReasoningTokens. Converters for formats that
//     count differently (Anthropic's input_tokens excludes cache tokens)
//     translate in both directions.
//   - A stream is a sequence of Chunks read with Stream.Recv until io.EOF.
//     Text, reasoning and tool-call arguments arrive as fragments to be
//     appended; a tool call's ID and Name arrive in its first fragment.
//     Usage, when known, arrives in a Chunk of its own or with the last one.
//   - Optional numeric parameters are pointers: nil means "not set, let the
//     provider decide", which is different from zero.
//   - Extra carries top-level request fields the canonical model does not
//     know, keyed by their wire name, so that an upstream speaking the same
//     format receives them unchanged. An adapter for another format must not
//     drop them silently: it rejects the request naming the parameter, unless
//     that provider's own SDK would drop it too.
package llm
