package accesslog_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat/ingest/accesslog"
)

func TestParseConfigRejects(t *testing.T) {
	for name, yaml := range map[string]string{
		"unknown key":     "sources: []\nplatfroms: []\n",
		"unknown kind":    "sources: [{name: a, kind: w3c, fields: {user: authuser, library: extra1}}]\n",
		"no library":      "sources: [{name: a, kind: combined, fields: {user: authuser}}]\n",
		"no user":         "sources: [{name: a, kind: combined, fields: {library: extra1}}]\n",
		"bad field":       "sources: [{name: a, kind: combined, fields: {user: cookie, library: extra1}}]\n",
		"item-less rule":  "platforms: [{id: p, hosts: [h], rules: [{kind: request, path: '^/x'}]}]\n",
		"bad regexp":      "platforms: [{id: p, hosts: [h], rules: [{kind: search, path: '('}]}]\n",
		"host twice":      "platforms: [{id: p, hosts: [h]}, {id: q, hosts: [H]}]\n",
		"bad platform id": "platforms: [{id: '../p', hosts: [h]}]\n",
	} {
		if _, err := accesslog.ParseConfig(strings.NewReader(yaml)); !errors.Is(err, accesslog.ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
	}
}

func TestLoadKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	a, err := accesslog.LoadKey(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := accesslog.LoadKey(path)
	if err != nil || string(a) != string(b) || len(a) != 32 {
		t.Fatalf("the key changed or is short: %v", err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := accesslog.LoadKey(path); err == nil {
		t.Error("a key others can read was accepted")
	}
	k, _ := accesslog.NewKeyring(a)
	if p := k.Pseudonym("user", "kort1"); len(p) != 32 || strings.Contains(p, "kort1") || p == k.Pseudonym("session", "kort1") {
		t.Errorf("pseudonym %q", p)
	}
}
