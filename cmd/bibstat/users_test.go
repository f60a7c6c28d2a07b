package main

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/server"
)

func TestUsersCommand(t *testing.T) {
	dir := t.TempDir()
	// The site has a page for 2030100 only: the one library that exists here.
	if err := os.MkdirAll(filepath.Join(dir, "site", "bibliotek"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "site", "bibliotek", "2030100.html"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "users.json") // where portal --dir reads it
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	run := func(stdin string, args ...string) (string, error) {
		var out bytes.Buffer
		e := &env{stdout: &out, stderr: &out, log: slog.New(slog.DiscardHandler)}
		err := runUsers(e, strings.NewReader(stdin), append(args, "--dir", dir), now)
		return out.String(), err
	}
	const pw = "a long enough password\n"
	tests := []struct {
		name, stdin string
		args        []string
		want        string
		usage       bool
		is          error
	}{
		{"library", pw, []string{"add", "oslo", "--role", "library", "--library", "2030100", "--password-stdin"}, "added oslo (library 2030100)", false, nil},
		{"county with token", "", []string{"add", "--role", "county", "--county", "03", "fylke03", "--token"}, "api_key for fylke03", false, nil},
		{"admin", pw, []string{"add", "admin", "--role", "admin", "--password-stdin"}, "added admin", false, nil},
		{"duplicate", pw, []string{"add", "admin", "--role", "admin", "--password-stdin"}, "", false, server.ErrUserExists},
		{"neither password nor token", "", []string{"add", "x0", "--role", "admin"}, "", true, nil},
		{"short password", "short\n", []string{"add", "x1", "--role", "admin", "--password-stdin"}, "", true, nil},
		{"library without bibnr", "", []string{"add", "x2", "--role", "library", "--token"}, "", true, nil},
		{"unknown library", "", []string{"add", "x4", "--role", "library", "--library", "2999999", "--token"}, "", true, nil},
		{"unknown county", "", []string{"add", "x5", "--role", "county", "--county", "99", "--token"}, "", true, nil},
		{"bad role", "", []string{"add", "x3", "--role", "king", "--token"}, "", true, nil},
		{"token", "", []string{"token", "oslo"}, "bst_", false, nil},
		{"passwd", "another long password\n", []string{"passwd", "oslo", "--password-stdin"}, "new password for oslo", false, nil},
		{"passwd too short", "short\n", []string{"passwd", "oslo", "--password-stdin"}, "", true, nil},
		{"passwd of nobody", pw, []string{"passwd", "nobody", "--password-stdin"}, "", false, server.ErrNoSuchUser},
		{"revoke unknown token", "", []string{"revoke", "oslo", "--token-id", "0000"}, "", false, server.ErrNoSuchToken},
		{"revoke", "", []string{"revoke", "oslo"}, "revoked oslo", false, nil},
		{"list", "", []string{"list"}, "revoked 2026-01-02", false, nil},
		{"reuse a revoked name", pw, []string{"add", "oslo", "--role", "admin", "--password-stdin"}, "added oslo (everything)", false, nil},
	}
	for _, tt := range tests {
		out, err := run(tt.stdin, tt.args...)
		var ue *cli.UsageError
		switch {
		case tt.usage && !errors.As(err, &ue):
			t.Errorf("%s: %v, want a usage error", tt.name, err)
		case tt.is != nil && !errors.Is(err, tt.is):
			t.Errorf("%s: %v, want %v", tt.name, err, tt.is)
		case !tt.usage && tt.is == nil && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case !strings.Contains(out, tt.want):
			t.Errorf("%s: output %q lacks %q", tt.name, out, tt.want)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "a long enough password") || !strings.Contains(string(b), "$argon2id$") {
		t.Errorf("users file must hold argon2id hashes only:\n%s", b)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("users file mode %v, want 0600", fi.Mode().Perm())
	}
	users, err := server.OpenUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	if u, err := users.Get("oslo"); err != nil || !u.Active() || u.Role != server.RoleAdmin || len(u.Tokens) != 0 {
		t.Errorf("the reused name: %+v, %v; want a fresh active admin with no tokens", u, err)
	}
	// One token of several is revoked by its id.
	out, err := run("", "token", "fylke03")
	if err != nil {
		t.Fatal(err)
	}
	id, _, _ := strings.Cut(strings.TrimPrefix(out[strings.Index(out, "bst_"):], "bst_"), "_")
	if _, err := run("", "revoke", "fylke03", "--token-id", id); err != nil {
		t.Fatal(err)
	}
	if u, _ := users.Get("fylke03"); len(u.Tokens) != 1 || u.Tokens[0].ID == id || !u.Active() {
		t.Errorf("after revoking token %s: %+v; want the other token kept", id, u.Tokens)
	}
}

// TestUsersConfigFindsPortalFile: with --config the users file is the
// config's server.users, read from the config's folder, whatever the
// working directory.
func TestUsersConfigFindsPortalFile(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "bibstat.yaml")
	if err := os.WriteFile(cfgPath, []byte("libraries:\n  - bibnr: \"2030100\"\n    name: Oslo\n    municipality: \"0301\"\nserver:\n  users: accounts/users.json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	var out bytes.Buffer
	e := &env{stdout: &out, stderr: &out, log: slog.New(slog.DiscardHandler)}
	if err := runUsers(e, strings.NewReader(""), []string{"add", "oslo", "--role", "library", "--library", "2030100", "--token", "--config", cfgPath}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "accounts", "users.json")); err != nil {
		t.Errorf("the users file is not the config's server.users: %v", err)
	}
	if _, err := os.Stat("users.json"); err == nil {
		t.Errorf("users wrote ./users.json")
	}
}
