package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// NewFlags returns a flag set for a subcommand whose --help prints to w the
// command's summary and one line per flag.
func NewFlags(w io.Writer, name, argsUsage, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(w, "Usage: bibstat %s [flags] %s\n\n%s\n", name, argsUsage, summary)
		first := true
		fs.VisitAll(func(f *flag.Flag) {
			if first {
				fmt.Fprint(w, "\nFlags:\n")
				first = false
			}
			def := ""
			if f.DefValue != "" && f.DefValue != "false" {
				def = fmt.Sprintf(" (default %s)", f.DefValue)
			}
			_, usage := flag.UnquoteUsage(f) // drops the backticks that name the value
			fmt.Fprintf(w, "  --%-20s %s%s\n", f.Name+argName(f), usage, def)
		})
	}
	return fs
}

// argName shows the flag's value placeholder, e.g. " DIR", from `--out DIR`-style usage.
func argName(f *flag.Flag) string {
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return ""
	}
	name, _ := flag.UnquoteUsage(f)
	return " " + strings.ToUpper(name)
}

// Parse parses args; --help prints usage and returns ErrHelp, handled by
// the caller as success; any other problem is a UsageError (exit 2).
func Parse(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return ErrHelp // Parse has printed the usage
	}
	if err != nil {
		return &UsageError{Msg: fmt.Sprintf("%s: %v (run 'bibstat %s --help')", fs.Name(), err, fs.Name())}
	}
	return nil
}

// ParseInterleaved parses flags anywhere among the arguments and returns
// the positional ones, of which it wants exactly n.
func ParseInterleaved(fs *flag.FlagSet, args []string, n int) ([]string, error) {
	var pos []string
	for {
		if err := Parse(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != n {
		return nil, &UsageError{Msg: fmt.Sprintf("%s: want %d argument(s), got %d (run 'bibstat %s --help')", fs.Name(), n, len(pos), fs.Name())}
	}
	return pos, nil
}

// ErrHelp means --help was asked for and printed: the command ends successfully.
var ErrHelp = errors.New("help shown")

// UsageError is a mistake in the command line: exit status 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }
