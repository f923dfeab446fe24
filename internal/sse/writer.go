package sse

import (
	"bytes"
	"io"
	"net/http"
)

// ContentType is the media type of an event stream.
const ContentType = "text/event-stream"

// SetHeaders prepares a response for streaming events: content type, no
// caching, and no buffering by intermediaries such as nginx.
func SetHeaders(h http.Header) {
	h.Set("Content-Type", ContentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
}

// AppendEvent appends one event to dst: an optional "event:" line, one
// "data:" line per line of data, and the blank line that ends every event.
// data must not contain "\r"; JSON produced by encoding/json never does.
func AppendEvent(dst []byte, event string, data []byte) []byte {
	if event != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, event...)
		dst = append(dst, '\n')
	}
	for {
		i := bytes.IndexByte(data, '\n')
		dst = append(dst, "data: "...)
		if i < 0 {
			dst = append(dst, data...)
			break
		}
		dst = append(dst, data[:i]...)
		dst = append(dst, '\n')
		data = data[i+1:]
	}
	return append(dst, '\n', '\n')
}

// WriteEvent writes one event to w; see AppendEvent.
func WriteEvent(w io.Writer, event string, data []byte) error {
	_, err := w.Write(AppendEvent(make([]byte, 0, len(data)+len(event)+16), event, data))
	return err
}
