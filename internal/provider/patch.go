package provider

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/sluicehq/sluice/internal/jsonw"
)

// errPatch is the cause of a patch that cannot be applied: config
// validation makes it an object, and adapters encode objects, so it means
// a bug.
var errPatch = errors.New("provider: a request patch and the body it patches must be JSON objects")

// PatchBody applies patch, a JSON merge patch (RFC 7386) holding an
// object, to body, the JSON object an adapter encoded (see
// llm.Request.Patch). Members the patch does not name are copied as they
// are, in order; a named member is replaced by the patch's value, merged
// recursively when both are objects, or removed when the patch's value is
// null; the patch's other members are appended. With an empty patch it
// returns body itself, without allocating. body is not modified.
func PatchBody(body []byte, patch json.RawMessage) ([]byte, error) {
	if len(patch) == 0 {
		return body, nil
	}
	if !isObject(body) || !isObject(patch) {
		return nil, errPatch
	}
	return mergeObject(make([]byte, 0, len(body)+len(patch)), body, patch)
}

// patchMember is one member of a patch object; used is set once the
// target had it.
type patchMember struct {
	key, val []byte
	used     bool
}

// mergeObject appends to dst the object target (nil: {}) with the object
// patch merged into it.
func mergeObject(dst, target, patch []byte) ([]byte, error) {
	var members []patchMember
	err := jsonw.EachMember(patch, func(k, v []byte) error {
		for i := range members {
			if sameKey(members[i].key, k) { // the last of duplicates wins, as in encoding/json
				members[i].val = v
				return nil
			}
		}
		members = append(members, patchMember{key: k, val: v})
		return nil
	})
	if err != nil {
		return nil, errPatch
	}
	dst = append(dst, '{')
	start := len(dst)
	if target != nil {
		err = jsonw.EachMember(target, func(k, v []byte) error {
			m := findMember(members, k)
			if m == nil {
				dst = appendMemberKey(dst, start, k)
				dst = append(dst, v...)
				return nil
			}
			m.used = true
			if isNull(m.val) {
				return nil
			}
			var err error
			dst, err = mergeValue(appendMemberKey(dst, start, k), v, m.val)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	for i := range members {
		m := &members[i]
		if m.used || isNull(m.val) {
			continue
		}
		if dst, err = mergeValue(appendMemberKey(dst, start, m.key), nil, m.val); err != nil {
			return nil, err
		}
	}
	return append(dst, '}'), nil
}

// mergeValue appends the value patch gives target (nil: absent).
func mergeValue(dst, target, patch []byte) ([]byte, error) {
	if !isObject(patch) {
		return append(dst, jsonw.TrimSpace(patch)...), nil
	}
	if !isObject(target) {
		target = nil
	}
	return mergeObject(dst, target, patch)
}

// appendMemberKey appends `"key":`, after a comma unless it is the first
// member of the object that starts at start.
func appendMemberKey(dst []byte, start int, key []byte) []byte {
	if len(dst) > start {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

func findMember(ms []patchMember, key []byte) *patchMember {
	for i := range ms {
		if sameKey(ms[i].key, key) {
			return &ms[i]
		}
	}
	return nil
}

// sameKey compares two member keys as EachMember yields them (escapes
// left in).
func sameKey(a, b []byte) bool {
	if bytes.IndexByte(a, '\\') < 0 && bytes.IndexByte(b, '\\') < 0 {
		return bytes.Equal(a, b)
	}
	return jsonw.Key(a) == jsonw.Key(b)
}

func isObject(v []byte) bool {
	i := jsonw.SkipSpace(v, 0)
	return i < len(v) && v[i] == '{'
}

func isNull(v []byte) bool { return string(jsonw.TrimSpace(v)) == "null" }
