package accesslog

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"

	"github.com/bibliotek24/bibstat/internal/keyfile"
)

// Keyring turns user ids (and session ids) into pseudonyms: HMAC-SHA256
// under a key that lives outside the archive, so the archived events alone
// cannot be tested against a candidate card number offline. A Keyring is
// not safe for concurrent use; each of a Reader's workers has its own.
type Keyring struct {
	key    []byte
	mac    hash.Hash
	sum    []byte
	caches map[string]*cache[string] // by kind
}

// maxCached bounds each cache of the readers: a patron's lines come
// together, so a bounded cache spares most HMACs (and robots matches) without
// growing with the log.
const maxCached = 1 << 16

// NewKeyring returns a Keyring on key (16 bytes or more).
func NewKeyring(key []byte) (*Keyring, error) {
	if len(key) < 16 {
		return nil, fmt.Errorf("pseudonym key: %d bytes, want 16 or more", len(key))
	}
	key = bytes.Clone(key)
	return &Keyring{key: key, mac: hmac.New(sha256.New, key), caches: map[string]*cache[string]{}}, nil
}

// clone is a Keyring on the same key with caches of its own.
func (k *Keyring) clone() *Keyring {
	return &Keyring{key: k.key, mac: hmac.New(sha256.New, k.key), caches: map[string]*cache[string]{}}
}

// Pseudonym is the pseudonym of id ("" stays ""): 16 bytes of the HMAC in
// hex, the kind ("user", "session") mixed in so equal ids of two kinds differ.
func (k *Keyring) Pseudonym(kind, id string) string { return k.pseudonym(kind, []byte(id)) }

// pseudonym is Pseudonym of an id read from a line, without copying it
// unless it is new to the cache.
func (k *Keyring) pseudonym(kind string, id []byte) string {
	if len(id) == 0 {
		return ""
	}
	c := k.caches[kind]
	if c == nil {
		c = &cache[string]{}
		k.caches[kind] = c
	}
	if p, ok := c.get(id, maxCached); ok {
		return p
	}
	k.mac.Reset()
	k.mac.Write([]byte("bibstat-accesslog-v1\x00"))
	k.mac.Write([]byte(kind))
	k.mac.Write([]byte{0})
	k.mac.Write(id)
	k.sum = k.mac.Sum(k.sum[:0])
	p := hex.EncodeToString(k.sum[:16])
	c.put(string(id), p, maxCached)
	return p
}

// cache holds the values (pseudonyms) of recent ids in two generations:
// when the current is full it becomes the old one, and an id found in the
// old one moves back, so the ids of open sessions stay while the cache is
// bounded (unlike clearing it all, which would recompute them all at once).
type cache[V any] struct{ cur, old map[string]V }

func (c *cache[V]) get(id []byte, size int) (V, bool) {
	if v, ok := c.cur[string(id)]; ok {
		return v, true
	}
	if v, ok := c.old[string(id)]; ok {
		c.put(string(id), v, size)
		return v, true
	}
	var zero V
	return zero, false
}

// put adds id's value, the two generations holding up to size ids.
func (c *cache[V]) put(id string, v V, size int) {
	if c.cur == nil || len(c.cur) >= size/2 {
		c.old, c.cur = c.cur, make(map[string]V, 1024)
	}
	c.cur[id] = v
}

// LoadKey reads the pseudonym key file at path, creating it (mode 0600)
// with 32 random bytes on first use. A key file readable by others is an
// error: whoever reads the key can test card numbers against the archive.
func LoadKey(path string) ([]byte, error) {
	key, err := keyfile.Load(path)
	if err != nil {
		return nil, fmt.Errorf("pseudonym key: %w", err)
	}
	return key, nil
}
