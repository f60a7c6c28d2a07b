package main

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	_ "github.com/duckdb/duckdb-go/v2" // the warehouse's driver, asked for its version

	"github.com/bibliotek24/bibstat/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode maps an error to the process's exit status: 0 ok, 2 for a usage
// error, 130 when interrupted, 1 for anything else.
func exitCode(err error, stderr io.Writer) int {
	var usage *cli.UsageError
	var silent silentError
	switch {
	case err == nil, errors.Is(err, cli.ErrHelp):
		return 0
	case errors.As(err, &silent):
		return silent.code
	case errors.As(err, &usage):
		fmt.Fprintln(stderr, "bibstat:", err)
		return 2
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "bibstat: interrupted; run the same command again to resume")
		return 130
	default:
		fmt.Fprintln(stderr, "bibstat:", err)
		return 1
	}
}

// env is what every subcommand gets from main: where to write, and the process's context.
type env struct {
	stdout, stderr io.Writer
	log            *slog.Logger
}

// command is one subcommand. Its run gets the arguments after the command name.
type command struct {
	name    string
	summary string
	// unattended commands (serve, portal) log at info by default, so their
	// log says what they did; the others only warn, unless told otherwise.
	unattended bool
	run        func(ctx context.Context, e *env, args []string) error
}

// commands lists every subcommand, in the order --help shows them.
func commands() []command {
	return []command{
		demoCommand(),
		inspectCommand(),
		benchCommand(),
		harvestCommand(),
		statusCommand(),
		alertsCommand(),
		ledgerCommand(),
		serveCommand(),
		credentialsCommand(),
		platformsCommand(),
		ingestCommand(),
		ingestLogsCommand(),
		agreementsCommand(),
		transformCommand(),
		explainCommand(),
		reportCommand(),
		usersCommand(),
		portalCommand(),
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	levelName, args, err := takeLogLevel(args)
	if err != nil {
		return err
	}
	levelName = cmp.Or(levelName, os.Getenv("BIBSTAT_LOG_LEVEL"))
	if len(args) == 1 && (args[0] == "--version" || args[0] == "version") {
		return printVersion(ctx, stdout)
	}
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) == 2 && args[0] == "help" {
			return run(ctx, []string{args[1], "--help"}, stdout, stderr)
		}
		printHelp(stdout, cmds)
		if len(args) == 0 {
			return &cli.UsageError{Msg: "no command given"}
		}
		return nil
	}
	for _, c := range cmds {
		if c.name == args[0] {
			level, err := logLevel(levelName, c.unattended)
			if err != nil {
				return err
			}
			e := &env{stdout: stdout, stderr: stderr, log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))}
			return whatNext(c.run(ctx, e, args[1:]))
		}
	}
	return &cli.UsageError{Msg: fmt.Sprintf("unknown command %q; run 'bibstat --help' for the list", args[0])}
}

// takeLogLevel takes a leading --log-level LEVEL (or --log-level=LEVEL) off args.
func takeLogLevel(args []string) (string, []string, error) {
	if len(args) == 0 || !strings.HasPrefix(args[0], "-") {
		return "", args, nil
	}
	name, value, ok := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
	switch {
	case name != "log-level":
		return "", args, nil
	case ok:
		return value, args[1:], nil
	case len(args) < 2:
		return "", nil, &cli.UsageError{Msg: "--log-level: want debug, info, warn or error"}
	}
	return args[1], args[2:], nil
}

// logLevel is the level named by --log-level or BIBSTAT_LOG_LEVEL, else
// info for an unattended command and warn for the others, which stay quiet
// unless something is wrong.
func logLevel(name string, unattended bool) (slog.Level, error) {
	if name == "" {
		if unattended {
			return slog.LevelInfo, nil
		}
		return slog.LevelWarn, nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(name)); err != nil {
		return l, &cli.UsageError{Msg: fmt.Sprintf("--log-level %q: want debug, info, warn or error", name)}
	}
	return l, nil
}

// printVersion prints BibStat's version, from the build info ("devel"
// when the binary was not built from a tagged module), and the DuckDB
// library it links, which decides what warehouse files it can read.
func printVersion(ctx context.Context, w io.Writer) error {
	version := "devel"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		version = bi.Main.Version
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return fmt.Errorf("version: %w", err)
	}
	defer db.Close()
	var duck string
	if err := db.QueryRowContext(ctx, "SELECT version()").Scan(&duck); err != nil {
		return fmt.Errorf("version: duckdb: %w", err)
	}
	fmt.Fprintf(w, "bibstat %s\nduckdb %s\n", version, duck)
	return nil
}

func printHelp(w io.Writer, cmds []command) {
	fmt.Fprint(w, "bibstat harvests, archives and reports COUNTER usage for Bibliotek24.\n\nUsage: bibstat [--log-level LEVEL] COMMAND [flags]\n\nCommands:\n")
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'bibstat COMMAND --help' for a command's flags.\n"+
		"--log-level (or $BIBSTAT_LOG_LEVEL) is debug, info, warn or error; by default serve and\n"+
		"portal log at info, the other commands only warnings and errors.\n")
}

// silentError carries an exit status for a command that already told the user why.
type silentError struct{ code int }

func (e silentError) Error() string { return fmt.Sprintf("exit status %d", e.code) }
