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
	path := filepath.Join(t.TempDir(), "users.json")
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	run := func(stdin string, args ...string) (string, error) {
		var out bytes.Buffer
		e := &env{stdout: &out, stderr: &out, log: slog.New(slog.DiscardHandler)}
		err := runUsers(e, strings.NewReader(stdin), append(args, "--users", path), now)
		return out.String(), err
	}
	tests := []struct {
		name, stdin string
		args        []string
		want        string
		usage       bool
	}{
		{"library", "a long enough password\n", []string{"add", "oslo", "--role", "library", "--library", "2030100", "--password-stdin"}, "added oslo (library 2030100)", false},
		{"county with token", "", []string{"add", "--role", "county", "--county", "03", "fylke03", "--token"}, "api_key for fylke03", false},
		{"admin", "", []string{"add", "admin", "--role", "admin"}, "added admin", false},
		{"duplicate", "", []string{"add", "admin", "--role", "admin"}, "", false},
		{"short password", "short\n", []string{"add", "x1", "--role", "admin", "--password-stdin"}, "", true},
		{"library without bibnr", "", []string{"add", "x2", "--role", "library"}, "", true},
		{"bad role", "", []string{"add", "x3", "--role", "king"}, "", true},
		{"token", "", []string{"token", "oslo"}, "bst_", false},
		{"revoke", "", []string{"revoke", "oslo"}, "revoked oslo", false},
		{"list", "", []string{"list"}, "revoked 2026-01-02", false},
	}
	for _, tt := range tests {
		out, err := run(tt.stdin, tt.args...)
		var ue *cli.UsageError
		switch {
		case tt.usage && !errors.As(err, &ue):
			t.Errorf("%s: %v, want a usage error", tt.name, err)
		case tt.name == "duplicate" && !errors.Is(err, server.ErrUserExists):
			t.Errorf("%s: %v, want ErrUserExists", tt.name, err)
		case !tt.usage && tt.name != "duplicate" && err != nil:
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
}
