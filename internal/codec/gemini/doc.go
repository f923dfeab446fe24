// Package gemini converts between Sluice's canonical model and the Google
// Gemini (Generative Language API) wire format, upstream direction: canonical
// requests become generateContent and batchEmbedContents bodies, and Gemini
// responses, streamed events and errors become canonical values.
//
// Gemini issues no tool-call IDs and signs function calls with opaque
// "thought signatures" that must come back on the next turn; toolid.go
// explains how both survive a round trip through clients that only know
// OpenAI's or Anthropic's formats.
package gemini
