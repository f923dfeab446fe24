package sse

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// DefaultMaxEventBytes bounds one event's data; a larger event is an error
// rather than unbounded memory.
const DefaultMaxEventBytes = 8 << 20

// ErrEventTooLarge is returned when an event exceeds the reader's bound.
var ErrEventTooLarge = errors.New("sse: event exceeds size limit")

// Event is one server-sent event. Its slices belong to the Reader and are
// valid until the next call to Next.
type Event struct {
	// Type is the "event:" field; empty means the default "message".
	Type []byte
	// Data is the "data:" fields joined with "\n".
	Data []byte
	// ID is the "id:" field.
	ID []byte
	// Incomplete reports that the input ended before the blank line that
	// closes this event. Upstreams that omit the last blank line send whole
	// events this way; a connection cut mid-event does too, so a consumer
	// that cannot parse an Incomplete event should call the stream cut,
	// not malformed.
	Incomplete bool
}

// Reader reads events from a stream. It follows the WHATWG rules that
// matter to LLM streams: lines end with \n, \r\n or \r; a line starting with
// ":" is a comment; "field: value" drops one leading space; a blank line
// dispatches the event; at end of input a pending event is dispatched even
// without its blank line.
type Reader struct {
	br   *bufio.Reader
	max  int
	line []byte
	ev   Event
	typ  []byte
	data []byte
	id   []byte
	// queue holds the further lines of a line split at lone \r characters.
	queue [][]byte
}

// NewReader returns a Reader over r with events bounded by maxEventBytes
// (DefaultMaxEventBytes when <= 0).
func NewReader(r io.Reader, maxEventBytes int) *Reader {
	if maxEventBytes <= 0 {
		maxEventBytes = DefaultMaxEventBytes
	}
	return &Reader{br: bufio.NewReaderSize(r, 16<<10), max: maxEventBytes}
}

// Next returns the next event with data or a type. It returns io.EOF when the
// input ends with no pending event, io.ErrUnexpectedEOF never (a truncated
// final event is delivered as it is), and ErrEventTooLarge when an event
// outgrows the bound.
func (r *Reader) Next() (*Event, error) {
	r.typ, r.data, r.id = r.typ[:0], r.data[:0], r.id[:0]
	hasData, pending := false, false
	for {
		line, err := r.readLine()
		if err != nil {
			if err == io.EOF && pending {
				ev := r.dispatch(hasData)
				ev.Incomplete = true
				return ev, nil
			}
			return nil, err
		}
		if len(line) == 0 {
			if pending {
				return r.dispatch(hasData), nil
			}
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "data":
			if hasData {
				r.data = append(r.data, '\n')
			}
			r.data = append(r.data, value...)
			hasData, pending = true, true
			if len(r.data) > r.max {
				return nil, ErrEventTooLarge
			}
		case "event":
			r.typ = append(r.typ, value...)
			pending = true
		case "id":
			r.id = append(r.id, value...)
			pending = true
		}
	}
}

func (r *Reader) dispatch(hasData bool) *Event {
	r.ev.Type, r.ev.ID, r.ev.Incomplete = r.typ, r.id, false
	r.ev.Data = nil
	if hasData {
		r.ev.Data = r.data
	}
	return &r.ev
}

// readLine returns the next line without its terminator; the slice is valid
// until the next call. Lines end with \n or \r\n; a lone \r also ends a
// line, seen once the \n or the end of input that follows it arrives (every
// LLM provider frames its streams with \n, so this never delays an event).
func (r *Reader) readLine() ([]byte, error) {
	if len(r.queue) > 0 {
		l := r.queue[0]
		r.queue = r.queue[1:]
		return l, nil
	}
	r.line = r.line[:0]
	var b []byte
	for {
		chunk, err := r.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			r.line = append(r.line, chunk...)
			if len(r.line) > r.max {
				return nil, ErrEventTooLarge
			}
			continue
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		if len(r.line) > 0 {
			r.line = append(r.line, chunk...)
			chunk = r.line
		}
		if err == io.EOF && len(chunk) == 0 {
			return nil, io.EOF
		}
		b = chunk
		break
	}
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	i := bytes.IndexByte(b, '\r')
	if i < 0 {
		return b, nil
	}
	first := b[:i]
	r.queue = r.queue[:0]
	for rest := b[i+1:]; ; {
		j := bytes.IndexByte(rest, '\r')
		if j < 0 {
			r.queue = append(r.queue, rest)
			break
		}
		r.queue = append(r.queue, rest[:j])
		rest = rest[j+1:]
	}
	return first, nil
}
