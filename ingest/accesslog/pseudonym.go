package accesslog

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"strings"
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
	b, err := os.ReadFile(path)
	if err == nil {
		st, serr := os.Stat(path)
		if serr != nil {
			return nil, fmt.Errorf("pseudonym key: %w", serr)
		}
		if st.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("pseudonym key %s: mode %v, want 0600", path, st.Mode().Perm())
		}
		key, derr := hex.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(key) < 16 {
			return nil, fmt.Errorf("pseudonym key %s: not 16+ hex bytes", path)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("pseudonym key: %w", err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go 1.24+)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadKey(path) // another process made it first
	}
	if err != nil {
		return nil, fmt.Errorf("pseudonym key: %w", err)
	}
	_, err = f.WriteString(hex.EncodeToString(key) + "\n")
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("pseudonym key: %w", err)
	}
	return key, nil
}
