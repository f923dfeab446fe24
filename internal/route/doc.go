// Package route decides which route a request takes: an ordered list of
// rules whose conditions, written in the expr language, read the request
// (requested model, metadata, key/team/tenant, estimated prompt tokens,
// tools, images, stream). Conditions are compiled and type-checked once,
// when the config is loaded; the first rule that matches wins.
package route
