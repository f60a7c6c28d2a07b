package counter

// jnode: a small JSON value decoded whole, for everything in a response
// but its Report_Items.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// jnode is a decoded JSON value that keeps object keys in document order
// and lets lookups ignore case, because vendors send "code" for "Code".
type jnode struct {
	kind byte // '{' object, '[' array, 's' string, 'n' number, 'b' bool, '0' null
	str  string
	keys []string // object keys, parallel to vals
	vals []*jnode // object values or array elements
}

// get returns the member called name, matching case-insensitively when no
// exact match exists; nil if absent or n is not an object.
func (n *jnode) get(name string) *jnode {
	if n == nil || n.kind != '{' {
		return nil
	}
	for i, k := range n.keys {
		if k == name {
			return n.vals[i]
		}
	}
	for i, k := range n.keys {
		if strings.EqualFold(k, name) {
			return n.vals[i]
		}
	}
	return nil
}

// text is a scalar's text: strings as is, numbers as written, null as "".
func (n *jnode) text() string {
	if n == nil {
		return ""
	}
	switch n.kind {
	case 's', 'n', 'b':
		return strings.TrimSpace(n.str)
	}
	return ""
}

func (n *jnode) str1(name string) string { return n.get(name).text() }

func (n *jnode) list() []*jnode {
	if n == nil || n.kind != '[' {
		return nil
	}
	return n.vals
}

func (n *jnode) has(key string) bool {
	for _, k := range n.keys {
		if k == key {
			return true
		}
	}
	return false
}

// set adds or, for a duplicate key, replaces a member (the last one wins,
// as with encoding/json).
func (n *jnode) set(key string, v *jnode) {
	for i, k := range n.keys {
		if k == key {
			n.vals[i] = v
			return
		}
	}
	n.keys = append(n.keys, key)
	n.vals = append(n.vals, v)
}

// node is a new jnode of kind, from a slab: a response is hundreds of
// small values, and one allocation each was a fifth of a small one's.
func (jr *jsonReader) node(kind byte) *jnode {
	s := &jr.scratch
	if len(jr.nodes) == 0 {
		jr.nodes = nextSlab(&s.nodes, &s.usedNodes, 64)
	}
	n := &jr.nodes[0]
	jr.nodes = jr.nodes[1:]
	*n = jnode{kind: kind} // a pooled slab's node may hold an earlier document's value
	// An object's or list's first members go in windows of shared slabs
	// (each capped, so that a fifth member's append moves it out).
	const window = 4
	switch kind {
	case '{':
		if len(jr.keySlab) < window {
			jr.keySlab = nextSlab(&s.keys, &s.usedKeys, 64*window)
		}
		n.keys, jr.keySlab = jr.keySlab[:0:window], jr.keySlab[window:]
		fallthrough
	case '[':
		if len(jr.valSlab) < window {
			jr.valSlab = nextSlab(&s.vals, &s.usedVals, 64*window)
		}
		n.vals, jr.valSlab = jr.valSlab[:0:window], jr.valSlab[window:]
	}
	return n
}

// value decodes the value starting with tok, warning about duplicate keys
// and failing past the nesting limit.
func (jr *jsonReader) value(tok json.Token, depth int, path string) (*jnode, error) {
	if depth > jr.opts.MaxDepth {
		return nil, fmt.Errorf("parse json at offset %d: nesting deeper than %d", jr.dec.InputOffset(), jr.opts.MaxDepth)
	}
	switch t := tok.(type) {
	case json.Delim:
		n := jr.node(byte(t))
		var seen map[string]bool
		for jr.dec.More() {
			var key string
			if t == '{' {
				ktok, err := jr.token()
				if err != nil {
					return nil, err
				}
				key, _ = ktok.(string)
			}
			vtok, err := jr.token()
			if err != nil {
				return nil, err
			}
			var vpath string // only an object or list warns of its keys
			if _, ok := vtok.(json.Delim); ok {
				vpath = path + "/" + key
			}
			v, err := jr.value(vtok, depth+1, vpath)
			if err != nil {
				return nil, err
			}
			if t == '[' {
				n.vals = append(n.vals, v)
				continue
			}
			dup := false
			if len(n.keys) < 16 {
				dup = n.has(key)
			} else {
				if seen == nil {
					seen = make(map[string]bool, 32)
					for _, k := range n.keys {
						seen[k] = true
					}
				}
				dup = seen[key]
				seen[key] = true
			}
			if dup {
				jr.doc.warnf("duplicate JSON key %q in %s; the last value is used", key, path)
				n.set(key, v)
				continue
			}
			n.keys = append(n.keys, key)
			n.vals = append(n.vals, v)
		}
		if _, err := jr.token(); err != nil {
			return nil, err
		}
		return n, nil
	case string:
		n := jr.node('s')
		n.str = t
		return n, nil
	case json.Number:
		n := jr.node('n')
		n.str = string(t)
		return n, nil
	case bool:
		n := jr.node('b')
		n.str = strconv.FormatBool(t)
		return n, nil
	case nil:
		return jr.node('0'), nil
	}
	return nil, fmt.Errorf("parse json at offset %d: unexpected %v", jr.dec.InputOffset(), tok)
}
