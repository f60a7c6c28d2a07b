package server

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
)

// TestUsersCommandErrors: the command line's mistakes match ErrUsage (an
// invalid user ErrInvalidUser too); a failure of the users file does not.
func TestUsersCommandErrors(t *testing.T) {
	users, err := OpenUsers(filepath.Join(t.TempDir(), "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	inConfig := func(lib bibstat.LibraryID) bool { return lib == "2030100" }
	var out strings.Builder
	run := func(c UsersCommand) error {
		c.Out, c.Stdin, c.Now, c.InConfig, c.SiteDir = &out, strings.NewReader(""), time.Now(), inConfig, t.TempDir()
		return c.Run(users)
	}
	tests := []struct {
		name  string
		c     UsersCommand
		usage bool
		is    error
	}{
		{"library in the config", UsersCommand{Sub: "add", Names: []string{"oslo"}, Role: RoleLibrary, Library: "2030100", Token: true}, false, nil},
		{"library nowhere", UsersCommand{Sub: "add", Names: []string{"x"}, Role: RoleLibrary, Library: "2999999", Token: true}, true, nil},
		{"bad role", UsersCommand{Sub: "add", Names: []string{"x1"}, Role: "king", Token: true}, true, ErrInvalidUser},
		{"two names", UsersCommand{Sub: "token", Names: []string{"a", "b"}}, true, nil},
		{"unknown subcommand", UsersCommand{Sub: "frob"}, true, nil},
		{"nobody", UsersCommand{Sub: "revoke", Names: []string{"nobody"}}, false, ErrNoSuchUser},
	}
	for _, tt := range tests {
		err := run(tt.c)
		switch {
		case errors.Is(err, ErrUsage) != tt.usage:
			t.Errorf("%s: %v; want a usage error: %v", tt.name, err, tt.usage)
		case tt.is != nil && !errors.Is(err, tt.is):
			t.Errorf("%s: %v, want %v", tt.name, err, tt.is)
		case !tt.usage && tt.is == nil && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	out.Reset()
	if err := run(UsersCommand{Sub: "list"}); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(out.String(), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[1], "oslo  library  library 2030100  no") {
		t.Errorf("list:\n%s", out.String())
	}
}
