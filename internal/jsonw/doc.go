// Package jsonw holds the JSON primitives the hand-written codecs share: append
// functions that write strings, numbers, keys and raw values into a caller's
// buffer with encoding/json's exact output; a validator, a one-level
// object/array scanner, a one-pass checking reader (Iter) and string
// unquoting that agree with encoding/json on what they accept; and Text,
// which lets a decoder keep the strings and raw values of a body in one copy
// of it. It allocates only what it returns and never reflects, so codecs can
// use it on the request path.
package jsonw
