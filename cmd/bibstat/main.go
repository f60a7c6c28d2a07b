package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

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
	run     func(ctx context.Context, e *env, args []string) error
}

// commands lists every subcommand, in the order --help shows them.
func commands() []command {
	return []command{
		demoCommand(),
		inspectCommand(),
		benchCommand(),
		harvestCommand(),
		statusCommand(),
		serveCommand(),
		credentialsCommand(),
		ingestCommand(),
		agreementsCommand(),
		transformCommand(),
		reportCommand(),
		usersCommand(),
		portalCommand(),
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	e := &env{stdout: stdout, stderr: stderr,
		log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
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
			return c.run(ctx, e, args[1:])
		}
	}
	return &cli.UsageError{Msg: fmt.Sprintf("unknown command %q; run 'bibstat --help' for the list", args[0])}
}

func printHelp(w io.Writer, cmds []command) {
	fmt.Fprint(w, "bibstat harvests, archives and reports COUNTER usage for Bibliotek24.\n\nUsage: bibstat COMMAND [flags]\n\nCommands:\n")
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'bibstat COMMAND --help' for a command's flags.\n")
}

// silentError carries an exit status for a command that already told the user why.
type silentError struct{ code int }

func (e silentError) Error() string { return fmt.Sprintf("exit status %d", e.code) }
