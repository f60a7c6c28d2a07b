package keyfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "k.key")
	first, err := Load(path)
	if err != nil || len(first) != 32 {
		t.Fatalf("first Load: %d bytes, %v; want a new 32-byte key", len(first), err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	again, err := Load(path)
	if err != nil || !bytes.Equal(again, first) {
		t.Fatalf("second Load gave another key (%v)", err)
	}

	for _, tc := range []struct {
		name, body string
		mode       os.FileMode
		want       error
	}{
		{"open to others", "00112233445566778899aabbccddeeff\n", 0o644, ErrOpenToOthers},
		{"short", "0011\n", 0o600, ErrBadKey},
		{"not hex", "this is not a key at all, friend\n", 0o600, ErrBadKey},
	} {
		p := filepath.Join(dir, tc.name)
		if err := os.WriteFile(p, []byte(tc.body), tc.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, tc.mode); err != nil { // WriteFile's mode passes through the umask
			t.Fatal(err)
		}
		if _, err := Load(p); !errors.Is(err, tc.want) {
			t.Errorf("%s: Load = %v, want %v", tc.name, err, tc.want)
		}
	}
}
