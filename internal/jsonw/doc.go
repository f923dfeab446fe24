// Package jsonw holds the JSON primitives the hand-written codecs share: append
// functions that write strings, numbers, keys and raw values into a caller's
// buffer with encoding/json's exact output, and a validator, a one-pass
// object/array scanner and string unquoting that agree with encoding/json on
// what they accept. It allocates only the strings it returns and never
// reflects, so codecs can use it on the request path.
package jsonw
