// Package admin serves Sluice's admin REST API under /admin/v1: the request
// logs (a filtered, paginated list and single records with their payloads)
// and usage analytics (totals and time series, grouped by model, provider,
// key, tenant or team). It reads through store.Logs, authenticates every
// request with a bearer token, and answers errors in OpenAI's JSON shape.
package admin
