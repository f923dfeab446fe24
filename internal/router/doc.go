// Package router turns the model a client asked for into an ordered list of
// candidate targets (provider + upstream model) and runs a call against
// them, moving to the next candidate when a failure is retryable. Virtual
// models come from config; "provider/model" addresses a provider directly.
package router
