package ledger

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestFingerprintUnchanged: the reused keyed hashes give every credential
// the fingerprint the ledger has always stored (an HMAC of the parts,
// each after a 0 byte), one call after another and from many goroutines
// at once; a changed fingerprint would ask every broken credential again.
// Fails if a reused hash is not reset, or a part is framed otherwise.
func TestFingerprintUnchanged(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), "ledger.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	want := func(parts ...string) string {
		h := hmac.New(sha256.New, l.fpKey)
		h.Write([]byte("bibstat-credential-v2"))
		for _, p := range parts {
			h.Write([]byte{0})
			h.Write([]byte(p))
		}
		return hex.EncodeToString(h.Sum(nil)[:8])
	}
	cases := [][]string{
		{"https://a.example/sushi", "5.1", "c1", "", "key", ""},
		{"https://a.example/sushi", "5.1", "c1", "", "", "key"},
		{},
		{""},
		{strings.Repeat("x", 300), "y"}, // longer than the stack buffer
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				for _, parts := range cases {
					if got, w := l.Fingerprint(parts...), want(parts...); got != w {
						t.Errorf("Fingerprint(%q) = %s, want %s", parts, got, w)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}
