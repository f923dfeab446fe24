package provider

import (
	"net/url"
	"path"
	"strings"
)

// JoinURL returns base with path appended ("https://h/v1" + "chat/completions"
// = "https://h/v1/chat/completions"), with exactly one slash between them, and
// rawQuery as the query. base must be a valid absolute URL (config
// validation guarantees it); JoinURL never lets path change the host, nor
// climb above base's own path: "." and ".." segments are resolved as if path
// were rooted at base ("../../admin" gives base + "/admin"), backslashes
// count as slashes (some servers treat them so), and repeated slashes
// collapse. A trailing slash on path is kept.
func JoinURL(base *url.URL, path, rawQuery string) *url.URL {
	u := *base
	u.Path = strings.TrimRight(u.Path, "/") + cleanRelative(path)
	u.RawPath = ""
	u.RawQuery = rawQuery
	return &u
}

// cleanRelative returns p as a rooted, cleaned path ("/" for an empty p).
func cleanRelative(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	c := path.Clean("/" + p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}
