// Package openai is the provider adapter for OpenAI's API and every server
// that speaks its wire format: Azure OpenAI, Mistral, Groq, DeepSeek,
// OpenRouter, Together, Ollama, vLLM, LM Studio. It sends chat (whole and
// streamed), embeddings, model listing and passthrough requests, using the
// OpenAI codec for the JSON.
package openai
