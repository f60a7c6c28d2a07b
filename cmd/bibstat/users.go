package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/internal/config"
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

// runUsers is the users command: its subcommands share one flag set, as
// their flags overlap; server.UsersCommand does what they say.
func runUsers(e *env, stdin io.Reader, args []string, now time.Time) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(e.stdout, "Usage: bibstat users SUBCOMMAND [flags]\n\n%s\n", usersHelp)
		if len(args) == 0 {
			return &cli.UsageError{Msg: "users: give a subcommand: add, list, token, passwd or revoke"}
		}
		return nil
	}
	c := server.UsersCommand{Sub: args[0], Stdin: stdin, Out: e.stdout, Now: now}
	fs := cli.NewFlags(e.stdout, "users "+c.Sub, "", usersHelp)
	cfgPath := fs.String("config", config.DefaultFile(), "the configuration `file`; its server.users is the users file")
	dir := fs.String("dir", "", "instead of --config, the data `dir`ectory laid out as the default configuration's (as 'portal --dir')")
	role := fs.String("role", "", "add: admin, county or library")
	library := fs.String("library", "", "add: the library's `bibnr` (role library)")
	fs.StringVar(&c.County, "county", "", "add: the 2024 county `number` (role county)")
	fs.BoolVar(&c.PasswordStdin, "password-stdin", false, "add, passwd: read the password (12+ characters) from the first line of stdin")
	fs.BoolVar(&c.Token, "token", false, "add: also make and print an API token")
	fs.StringVar(&c.TokenID, "token-id", "", "revoke: drop only the API token with this `id`")
	names, err := parseInterleaved(fs, args[1:]) // flags may come before or after the name
	if err != nil {
		return err
	}
	c.Names, c.Role, c.Library = names, server.Role(*role), bibstat.LibraryID(*library)
	if *dir != "" {
		*cfgPath = ""
	}
	cfg, err := serverConfigFile(*cfgPath, *dir)
	if err != nil {
		return err
	}
	c.SiteDir = cfg.Path(cfg.Server.SiteDir)
	c.InConfig = func(lib bibstat.LibraryID) bool { _, ok := cfg.Library(string(lib)); return ok }
	users, err := server.OpenUsers(cfg.Path(cfg.Server.Users))
	if err != nil {
		return err
	}
	err = c.Run(users)
	if errors.Is(err, server.ErrUsage) {
		return &cli.UsageError{Msg: err.Error()}
	}
	return err
}
