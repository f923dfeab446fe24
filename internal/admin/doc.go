// Package admin serves Sluice's admin REST API under /admin/v1: request
// logs and usage analytics read through store.Logs, and the management of
// gateway and admin keys, tenants and teams with an audit trail of every
// change, through store.DB. Every request authenticates with the bootstrap
// token or a stored admin key and is authorised by role (owner, admin,
// member, viewer) and scope (tenant, team); errors answer in OpenAI's JSON
// shape.
package admin
