package accesslog

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"

	"github.com/bibliotek24/bibstat/internal/keyfile"
)

// Keyring turns user ids (and session ids) into pseudonyms: HMAC-SHA256
// under a key that lives outside the archive, so the archived events alone
// cannot be tested against a candidate card number offline. A Keyring is
// not safe for concurrent use.
type Keyring struct {
	mac   hash.Hash
	sum   []byte
	cache map[string]map[string]string // kind → id → pseudonym
}

// maxCached bounds the pseudonym cache: a patron's lines come together, so
// a small cache spares most HMACs without growing with the log.
const maxCached = 1 << 16

// NewKeyring returns a Keyring on key (16 bytes or more).
func NewKeyring(key []byte) (*Keyring, error) {
	if len(key) < 16 {
		return nil, fmt.Errorf("pseudonym key: %d bytes, want 16 or more", len(key))
	}
	return &Keyring{mac: hmac.New(sha256.New, key), cache: map[string]map[string]string{}}, nil
}

// Pseudonym is the pseudonym of id ("" stays ""): 16 bytes of the HMAC in
// hex, the kind ("user", "session") mixed in so equal ids of two kinds differ.
func (k *Keyring) Pseudonym(kind, id string) string {
	if id == "" {
		return ""
	}
	c := k.cache[kind]
	if p, ok := c[id]; ok {
		return p
	}
	if c == nil || len(c) >= maxCached {
		c = map[string]string{}
		k.cache[kind] = c
	}
	k.mac.Reset()
	k.mac.Write([]byte("bibstat-accesslog-v1\x00"))
	k.mac.Write([]byte(kind))
	k.mac.Write([]byte{0})
	k.mac.Write([]byte(id))
	k.sum = k.mac.Sum(k.sum[:0])
	p := hex.EncodeToString(k.sum[:16])
	c[strings.Clone(id)] = p // id may point into a whole log line
	return p
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
