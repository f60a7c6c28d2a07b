package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/internal/config"
	"github.com/bibliotek24/bibstat/internal/reference"
	"github.com/bibliotek24/bibstat/server"
)

func usersCommand() command {
	return command{name: "users", summary: "manage portal and SUSHI accounts: add, list, token, passwd, revoke",
		run: func(ctx context.Context, e *env, args []string) error {
			return runUsers(e, os.Stdin, args, time.Now())
		}}
}

const usersHelp = "Accounts of the portal and the SUSHI server, in the users file of the configuration\n" +
	"(server.users, mode 0600), which holds only argon2id hashes of passwords and API tokens; the\n" +
	"portal and serve read the same file. A running server sees changes at once.\n\n" +
	"  bibstat users add NAME --role library --library BIBNR (--password-stdin | --token)\n" +
	"  bibstat users add NAME --role county --county NN (--password-stdin | --token)\n" +
	"  bibstat users add NAME --role admin (--password-stdin | --token)\n" +
	"  bibstat users list\n" +
	"  bibstat users token NAME              print a new API token (SUSHI api_key) once\n" +
	"  bibstat users passwd NAME --password-stdin   set a new password; the user's sessions end\n" +
	"  bibstat users revoke NAME --token-id ID   drop one API token (its id is in 'list')\n" +
	"  bibstat users revoke NAME             disable the account, its sessions and tokens;\n" +
	"                                        'add' may then give the name to a new account\n" +
	"A library must be in the configuration's libraries or have a page in the site; a county\n" +
	"is a 2024 county number."

// runUsers is the users command; its subcommands share one flag set, as
// their flags overlap, which makes it longer than a function should be.
func runUsers(e *env, stdin io.Reader, args []string, now time.Time) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(e.stdout, "Usage: bibstat users SUBCOMMAND [flags]\n\n%s\n", usersHelp)
		if len(args) == 0 {
			return &cli.UsageError{Msg: "users: give a subcommand: add, list, token, passwd or revoke"}
		}
		return nil
	}
	sub := args[0]
	fs := cli.NewFlags(e.stdout, "users "+sub, "", usersHelp)
	cfgPath := fs.String("config", config.DefaultFile(), "the configuration `file`; its server.users is the users file")
	dir := fs.String("dir", "", "instead of --config, the data `dir`ectory laid out as the default configuration's (as 'portal --dir')")
	role := fs.String("role", "", "add: admin, county or library")
	library := fs.String("library", "", "add: the library's `bibnr` (role library)")
	county := fs.String("county", "", "add: the 2024 county `number` (role county)")
	pwStdin := fs.Bool("password-stdin", false, "add, passwd: read the password (12+ characters) from the first line of stdin")
	token := fs.Bool("token", false, "add: also make and print an API token")
	tokenID := fs.String("token-id", "", "revoke: drop only the API token with this `id`")
	// Flags may come before or after the name.
	var names []string
	rest := args[1:]
	for {
		if err := cli.Parse(fs, rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		names = append(names, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if *dir != "" {
		*cfgPath = ""
	}
	cfg, err := serverConfigFile(*cfgPath, *dir)
	if err != nil {
		return err
	}
	users, err := server.OpenUsers(cfg.Path(cfg.Server.Users))
	if err != nil {
		return err
	}
	needName := func() (string, error) {
		if len(names) != 1 {
			return "", &cli.UsageError{Msg: fmt.Sprintf("users %s takes one NAME", sub)}
		}
		return names[0], nil
	}
	readPassword := func() (string, error) {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password: %w", err)
		}
		if line = strings.TrimRight(line, "\r\n"); line == "" {
			return "", &cli.UsageError{Msg: "users " + sub + ": --password-stdin got an empty password"}
		}
		return line, nil
	}
	switch sub {
	case "add":
		name, err := needName()
		if err != nil {
			return err
		}
		if !*pwStdin && !*token {
			return &cli.UsageError{Msg: "users add: an account needs --password-stdin, --token or both"}
		}
		u := server.User{Name: name, Role: server.Role(*role), Library: bibstat.LibraryID(*library), County: *county}
		if err := scopeExists(cfg, u); err != nil {
			return err
		}
		password := ""
		if *pwStdin {
			if password, err = readPassword(); err != nil {
				return err
			}
		}
		if _, err := users.Add(u, password, now); err != nil {
			if errors.Is(err, server.ErrInvalidUser) {
				return &cli.UsageError{Msg: "users add: " + err.Error()}
			}
			return err
		}
		fmt.Fprintf(e.stdout, "added %s (%s)\n", name, describeScope(u))
		if *token {
			return printToken(e, users, name, now)
		}
		return nil
	case "token":
		name, err := needName()
		if err != nil {
			return err
		}
		return printToken(e, users, name, now)
	case "passwd":
		name, err := needName()
		if err != nil {
			return err
		}
		if !*pwStdin {
			return &cli.UsageError{Msg: "users passwd: give the new password with --password-stdin"}
		}
		password, err := readPassword()
		if err != nil {
			return err
		}
		if err := users.SetPassword(name, password); err != nil {
			if errors.Is(err, server.ErrInvalidUser) {
				return &cli.UsageError{Msg: "users passwd: " + err.Error()}
			}
			return err
		}
		fmt.Fprintf(e.stdout, "new password for %s; its sessions have ended\n", name)
		return nil
	case "revoke":
		name, err := needName()
		if err != nil {
			return err
		}
		if *tokenID != "" {
			if err := users.RevokeToken(name, *tokenID); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "revoked token %s of %s\n", *tokenID, name)
			return nil
		}
		if err := users.Revoke(name, now); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "revoked %s\n", name)
		return nil
	case "list":
		list, err := users.List()
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
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
	return &cli.UsageError{Msg: fmt.Sprintf("users: unknown subcommand %q; run 'bibstat users --help'", sub)}
}

// scopeExists checks that a library user's library is one the consortium
// has (in the configuration's libraries, or with a page in the site) and
// that a county user's county is a 2024 county.
func scopeExists(cfg *config.Loaded, u server.User) error {
	switch u.Role {
	case server.RoleLibrary:
		if _, ok := cfg.Library(string(u.Library)); ok || u.Library == "" {
			return nil
		}
		page := filepath.Join(cfg.Path(cfg.Server.SiteDir), "bibliotek", filepath.Base(string(u.Library))+".html")
		if fi, err := os.Stat(page); err == nil && fi.Mode().IsRegular() {
			return nil
		}
		return &cli.UsageError{Msg: fmt.Sprintf("users add: library %s is neither in the configuration's libraries nor in the site", u.Library)}
	case server.RoleCounty:
		munis, err := reference.Municipalities()
		if err != nil {
			return err
		}
		for _, m := range munis {
			if m.County == u.County {
				return nil
			}
		}
		if u.County == "" {
			return nil // Validate names what is missing
		}
		return &cli.UsageError{Msg: fmt.Sprintf("users add: county %s is not a 2024 county number", u.County)}
	}
	return nil
}

func printToken(e *env, users *server.Users, name string, now time.Time) error {
	tok, err := users.NewToken(name, now)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "api_key for %s (shown once, store it now): %s\n", name, tok)
	return nil
}

func describeScope(u server.User) string {
	switch u.Role {
	case server.RoleLibrary:
		return "library " + string(u.Library)
	case server.RoleCounty:
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
