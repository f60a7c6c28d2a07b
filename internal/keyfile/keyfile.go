package keyfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrBadKey is a key file that is not 16 or more hex bytes.
var ErrBadKey = errors.New("not 16+ hex bytes")

// ErrOpenToOthers is a key file that others than its owner can read or write:
// whoever reads the key can test guesses against what it hashed.
var ErrOpenToOthers = errors.New("readable by others, want mode 0600")

// Load reads the key at path, creating it on first use. Two processes that
// start together get the same key: the loser of the exclusive create reads
// the winner's file.
func Load(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return create(path)
	}
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s: mode %v: %w", path, st.Mode().Perm(), ErrOpenToOthers)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("%s: %w", path, ErrBadKey)
	}
	return key, nil
}

func create(path string) ([]byte, error) {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go 1.24+)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return Load(path) // another process made it first
	}
	if err != nil {
		return nil, err
	}
	_, err = f.WriteString(hex.EncodeToString(key) + "\n")
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return key, nil
}
