package provider

import (
	"net/url"
	"strings"
)

// JoinURL returns base with path appended ("https://h/v1" + "chat/completions"
// = "https://h/v1/chat/completions"), with exactly one slash between them, and
// rawQuery as the query. base must be a valid absolute URL (config
// validation guarantees it); JoinURL never lets path change the host.
func JoinURL(base *url.URL, path, rawQuery string) *url.URL {
	u := *base
	p := strings.TrimRight(u.Path, "/") + "/" + strings.TrimLeft(path, "/")
	u.Path = p
	u.RawPath = ""
	u.RawQuery = rawQuery
	return &u
}
