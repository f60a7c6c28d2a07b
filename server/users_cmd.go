package server

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/reference"
)

// ErrUsage marks a mistake in a "bibstat users" command line, which the
// command reports as such (exit status 2) rather than as a failure.
var ErrUsage = errors.New("users: usage")

// usageError is a users command-line mistake: its message is what the
// user reads, and it may wrap what found the mistake (ErrInvalidUser).
type usageError struct {
	msg string
	err error
}

func (e *usageError) Error() string        { return e.msg }
func (e *usageError) Unwrap() error        { return e.err }
func (e *usageError) Is(target error) bool { return target == ErrUsage }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// UsersCommand is one "bibstat users" subcommand with its flags parsed:
// cmd/bibstat parses them, Run checks and does what they say and prints.
type UsersCommand struct {
	Sub   string   // add, list, token, passwd or revoke
	Names []string // the arguments: one NAME for all but list

	Role          Role              // add
	Library       bibstat.LibraryID // add, role library
	County        string            // add, role county
	PasswordStdin bool              // add, passwd: the password is the first line of Stdin
	Token         bool              // add: also make and print an API token
	TokenID       string            // revoke: drop only this token

	// InConfig reports whether the configuration lists a library; one
	// with a page in SiteDir (the report site) exists too.
	InConfig func(bibstat.LibraryID) bool
	SiteDir  string

	Stdin io.Reader
	Out   io.Writer
	Now   time.Time
}

// Run runs the subcommand on users. A mistake in the command line is an
// error that matches ErrUsage.
func (c UsersCommand) Run(users *Users) error {
	switch c.Sub {
	case "add":
		return c.add(users)
	case "token":
		name, err := c.name()
		if err != nil {
			return err
		}
		return c.printToken(users, name)
	case "passwd":
		return c.passwd(users)
	case "revoke":
		return c.revoke(users)
	case "list":
		return c.list(users)
	}
	return usagef("users: unknown subcommand %q; run 'bibstat users --help'", c.Sub)
}

func (c UsersCommand) name() (string, error) {
	if len(c.Names) != 1 {
		return "", usagef("users %s takes one NAME", c.Sub)
	}
	return c.Names[0], nil
}

func (c UsersCommand) readPassword() (string, error) {
	line, err := bufio.NewReader(c.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	if line = strings.TrimRight(line, "\r\n"); line == "" {
		return "", usagef("users %s: --password-stdin got an empty password", c.Sub)
	}
	return line, nil
}

func (c UsersCommand) add(users *Users) error {
	name, err := c.name()
	if err != nil {
		return err
	}
	if !c.PasswordStdin && !c.Token {
		return usagef("users add: an account needs --password-stdin, --token or both")
	}
	u := User{Name: name, Role: c.Role, Library: c.Library, County: c.County}
	if err := c.scopeExists(u); err != nil {
		return err
	}
	password := ""
	if c.PasswordStdin {
		if password, err = c.readPassword(); err != nil {
			return err
		}
	}
	if _, err := users.Add(u, password, c.Now); err != nil {
		return invalidAsUsage("users add", err)
	}
	fmt.Fprintf(c.Out, "added %s (%s)\n", name, describeScope(u))
	if c.Token {
		return c.printToken(users, name)
	}
	return nil
}

// invalidAsUsage makes an invalid user or password, which the command
// line gave, a usage error; other errors stay as they are.
func invalidAsUsage(what string, err error) error {
	if errors.Is(err, ErrInvalidUser) {
		return &usageError{msg: what + ": " + err.Error(), err: err}
	}
	return err
}

// scopeExists checks that a library user's library is one the consortium
// has (in the configuration's libraries, or with a page in the site) and
// that a county user's county is a 2024 county. An empty library or
// county is left to Validate, which names what is missing.
func (c UsersCommand) scopeExists(u User) error {
	switch u.Role {
	case RoleLibrary:
		if u.Library == "" || (c.InConfig != nil && c.InConfig(u.Library)) {
			return nil
		}
		page := filepath.Join(c.SiteDir, "bibliotek", filepath.Base(string(u.Library))+".html")
		if fi, err := os.Stat(page); err == nil && fi.Mode().IsRegular() {
			return nil
		}
		return usagef("users add: library %s is neither in the configuration's libraries nor in the site", u.Library)
	case RoleCounty:
		if u.County == "" {
			return nil
		}
		munis, err := reference.Municipalities()
		if err != nil {
			return err
		}
		for _, m := range munis {
			if m.County == u.County {
				return nil
			}
		}
		return usagef("users add: county %s is not a 2024 county number", u.County)
	}
	return nil
}

func (c UsersCommand) printToken(users *Users, name string) error {
	tok, err := users.NewToken(name, c.Now)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Out, "api_key for %s (shown once, store it now): %s\n", name, tok)
	return nil
}

func (c UsersCommand) passwd(users *Users) error {
	name, err := c.name()
	if err != nil {
		return err
	}
	if !c.PasswordStdin {
		return usagef("users passwd: give the new password with --password-stdin")
	}
	password, err := c.readPassword()
	if err != nil {
		return err
	}
	if err := users.SetPassword(name, password); err != nil {
		return invalidAsUsage("users passwd", err)
	}
	fmt.Fprintf(c.Out, "new password for %s; its sessions have ended\n", name)
	return nil
}

func (c UsersCommand) revoke(users *Users) error {
	name, err := c.name()
	if err != nil {
		return err
	}
	if c.TokenID != "" {
		if err := users.RevokeToken(name, c.TokenID); err != nil {
			return err
		}
		fmt.Fprintf(c.Out, "revoked token %s of %s\n", c.TokenID, name)
		return nil
	}
	if err := users.Revoke(name, c.Now); err != nil {
		return err
	}
	fmt.Fprintf(c.Out, "revoked %s\n", name)
	return nil
}

// list prints every account without its hashes: whether it has a
// password, its tokens' public ids, and when it was revoked.
func (c UsersCommand) list(users *Users) error {
	list, err := users.List()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tSCOPE\tPASSWORD\tTOKENS\tSTATUS")
	for _, u := range list {
		status := "active"
		if !u.Active() {
			status = "revoked " + u.Revoked.Format(time.DateOnly)
		}
		ids := []string{}
		for _, t := range u.Tokens {
			ids = append(ids, t.ID)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, describeScope(u), yesNo(u.PasswordHash != ""),
			cmp.Or(strings.Join(ids, ","), "-"), status)
	}
	return tw.Flush()
}

func describeScope(u User) string {
	switch u.Role {
	case RoleLibrary:
		return "library " + string(u.Library)
	case RoleCounty:
		return "county " + u.County
	}
	return "everything"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
