package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/internal/config"
	"github.com/bibliotek24/bibstat/server"
)

// defaultUsers is the users file: BIBSTAT_USERS, else users.json in the
// working directory (beside the warehouse in a deployment).
func defaultUsers() string {
	if p := os.Getenv("BIBSTAT_USERS"); p != "" {
		return p
	}
	return "users.json"
}

func usersCommand() command {
	return command{name: "users", summary: "manage portal and SUSHI accounts: add, list, token, revoke",
		run: func(ctx context.Context, e *env, args []string) error {
			return runUsers(e, os.Stdin, args, time.Now())
		}}
}

const usersHelp = "Accounts of the portal and the SUSHI server, in a JSON file (mode 0600) that\n" +
	"holds only argon2id hashes of passwords and API tokens. A running server sees changes at once.\n\n" +
	"  bibstat users add NAME --role library --library BIBNR [--password-stdin] [--token]\n" +
	"  bibstat users add NAME --role county --county NN [--password-stdin] [--token]\n" +
	"  bibstat users add NAME --role admin [--password-stdin] [--token]\n" +
	"  bibstat users list\n" +
	"  bibstat users token NAME      print a new API token (SUSHI api_key) once\n" +
	"  bibstat users revoke NAME     disable the account, its sessions and tokens"

func runUsers(e *env, stdin io.Reader, args []string, now time.Time) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(e.stdout, "Usage: bibstat users SUBCOMMAND [flags]\n\n%s\n", usersHelp)
		if len(args) == 0 {
			return &cli.UsageError{Msg: "users: give a subcommand: add, list, token or revoke"}
		}
		return nil
	}
	sub := args[0]
	fs := cli.NewFlags(e.stdout, "users "+sub, "", usersHelp)
	path := fs.String("users", defaultUsers(), "the users `file`")
	cfgPath := fs.String("config", "", "the configuration `file`, whose server.users is used unless --users is given")
	role := fs.String("role", "", "add: admin, county or library")
	library := fs.String("library", "", "add: the library's `bibnr` (role library)")
	county := fs.String("county", "", "add: the 2024 county `number` (role county)")
	pwStdin := fs.Bool("password-stdin", false, "add: read the password (12+ characters) from the first line of stdin")
	token := fs.Bool("token", false, "add: also make and print an API token")
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
	if *cfgPath != "" && !isSet(fs, "users") {
		cfg, err := config.Load(*cfgPath)
		if err != nil {
			return err
		}
		*path = cfg.Path(cfg.Server.Users)
	}
	users, err := server.OpenUsers(*path)
	if err != nil {
		return err
	}
	needName := func() (string, error) {
		if len(names) != 1 {
			return "", &cli.UsageError{Msg: fmt.Sprintf("users %s takes one NAME", sub)}
		}
		return names[0], nil
	}
	switch sub {
	case "add":
		name, err := needName()
		if err != nil {
			return err
		}
		u := server.User{Name: name, Role: server.Role(*role), Library: bibstat.LibraryID(*library), County: *county}
		password := ""
		if *pwStdin {
			line, err := bufio.NewReader(stdin).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return fmt.Errorf("read password: %w", err)
			}
			password = strings.TrimRight(line, "\r\n")
			if password == "" {
				return &cli.UsageError{Msg: "users add: --password-stdin got an empty password"}
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
	case "revoke":
		name, err := needName()
		if err != nil {
			return err
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
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", u.Name, u.Role, describeScope(u), yesNo(u.PasswordHash != ""), len(u.Tokens), status)
		}
		return tw.Flush()
	}
	return &cli.UsageError{Msg: fmt.Sprintf("users: unknown subcommand %q; run 'bibstat users --help'", sub)}
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
