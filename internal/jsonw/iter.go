package jsonw

// This file holds a one-pass reader for hand-written decoders: where
// EachMember hands out each member's whole value (so a decoder that
// descends into it scans it again, once per level of nesting) and leaves
// validation to Valid (one more pass), Iter checks and walks the text in
// one pass, and the decoder says for each value whether to take it whole
// (Value) or to descend into it (Object, Array).

// Iter reads and checks one JSON text in one pass. Object and Array call
// back for each member or element with the cursor on its value, which the
// callback consumes with Value, Object or Array (or leaves, to be
// skipped). Everything it reads or skips is checked as Valid checks it
// (FuzzIter holds it to that): a text is valid exactly when reading its
// value succeeds and End then reports true. UTF-8 is not checked, as Valid
// does not. The zero value is ready for Reset.
type Iter struct {
	b     []byte
	i     int // the cursor: the start of the next value, or len(b)
	depth int // containers open around the cursor
}

// Reset makes it read b from its first value.
func (it *Iter) Reset(b []byte) {
	it.b, it.i, it.depth = b, SkipSpace(b, 0), 0
}

// End reports whether the cursor is at the end of the text (with only
// whitespace after the value read).
func (it *Iter) End() bool { return it.i == len(it.b) }

// Peek returns the first byte of the value at the cursor ('{', '[', '"',
// 't', 'f', 'n', '-' or a digit), or 0 at the end of the text.
func (it *Iter) Peek() byte {
	if it.i >= len(it.b) {
		return 0
	}
	return it.b[it.i]
}

// Value checks the value at the cursor and returns it, as a part of the
// text, and moves past it. It returns nil at the end of the text or when
// the value is not valid JSON.
func (it *Iter) Value() []byte {
	end, ok := validValue(it.b, it.i, it.depth)
	if !ok {
		it.i = len(it.b)
		return nil
	}
	v := it.b[it.i:end]
	it.i = SkipSpace(it.b, end)
	return v
}

// Object reads the object at the cursor: it calls fn with each member's
// key (the text between its quotes, escapes left in; see Key) with the
// cursor on the member's value, and skips what fn left of the value. It
// returns fn's first error, or ErrSyntax when the value is not an object.
func (it *Iter) Object(fn func(key []byte) error) error {
	b, i := it.b, it.i
	if i >= len(b) || b[i] != '{' || it.depth >= maxDepth {
		return ErrSyntax
	}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		it.i = SkipSpace(b, i+1)
		return nil
	}
	it.depth++
	defer func() { it.depth-- }()
	for {
		if i >= len(b) || b[i] != '"' {
			return it.fail()
		}
		ke, ok := validString(b, i)
		if !ok {
			return it.fail()
		}
		key := b[i+1 : ke-1]
		i = SkipSpace(b, ke)
		if i >= len(b) || b[i] != ':' {
			return it.fail()
		}
		it.i = SkipSpace(b, i+1)
		start := it.i
		if err := fn(key); err != nil {
			return err
		}
		if it.i == start && it.Value() == nil {
			return it.fail()
		}
		if i = it.i; i >= len(b) {
			return it.fail()
		}
		switch b[i] {
		case ',':
			i = SkipSpace(b, i+1)
		case '}':
			it.i = SkipSpace(b, i+1)
			return nil
		default:
			return it.fail()
		}
	}
}

// Array reads the array at the cursor: it calls fn with each element's
// index, the cursor on the element, and skips what fn left of it. It
// returns fn's first error, or ErrSyntax when the value is not an array.
func (it *Iter) Array(fn func(i int) error) error {
	b, i := it.b, it.i
	if i >= len(b) || b[i] != '[' || it.depth >= maxDepth {
		return ErrSyntax
	}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		it.i = SkipSpace(b, i+1)
		return nil
	}
	it.depth++
	defer func() { it.depth-- }()
	for n := 0; ; n++ {
		it.i = i
		if err := fn(n); err != nil {
			return err
		}
		if it.i == i && it.Value() == nil {
			return it.fail()
		}
		if i = it.i; i >= len(b) {
			return it.fail()
		}
		switch b[i] {
		case ',':
			i = SkipSpace(b, i+1)
		case ']':
			it.i = SkipSpace(b, i+1)
			return nil
		default:
			return it.fail()
		}
	}
}

// fail moves the cursor to the end (so nothing more is read) and returns
// ErrSyntax.
func (it *Iter) fail() error {
	it.i = len(it.b)
	return ErrSyntax
}
