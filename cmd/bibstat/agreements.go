package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/agreements"
	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/internal/config"
	"github.com/bibliotek24/bibstat/transform"
)

const agreementsHelp = `Usage: bibstat agreements SUBCOMMAND [flags] [ARG]

Keeps the registry of agreements and computes what each is worth.

Subcommands:
  validate FILE   check an agreements file against the warehouse's platforms and libraries
  import FILE     validate FILE and make the warehouse's registry equal to it, with history
  list            list the agreements in the warehouse
  show ID         show one agreement, its participants and its history
  value ID        cost, uses, cost per use, cost per inhabitant and each participant's share
                  (--year Y values one year; --explain prints every formula with its inputs)

Every subcommand takes --warehouse FILE (default bibstat-demo/warehouse.duckdb), or
--config FILE for the config's warehouse.
Run 'bibstat agreements SUBCOMMAND --help' for its flags.
`

func agreementsCommand() command {
	return command{name: "agreements", summary: "agreement registry and value per agreement (validate, import, list, show, value)",
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
				fmt.Fprint(e.stdout, agreementsHelp)
				if len(args) == 0 {
					return &cli.UsageError{Msg: "agreements: no subcommand given"}
				}
				return nil
			}
			sub, rest := args[0], args[1:]
			switch sub {
			case "validate", "import":
				return agreementsLoad(ctx, e, sub, rest)
			case "list":
				return agreementsList(ctx, e, rest)
			case "show":
				return agreementsShow(ctx, e, rest)
			case "value":
				return agreementsValue(ctx, e, rest)
			}
			return &cli.UsageError{Msg: fmt.Sprintf("agreements: unknown subcommand %q (run 'bibstat agreements --help')", sub)}
		}}
}

// agreementFlags is a flag set with --config and --warehouse; args may put
// flags after the positional arguments ("value ID --year 2025").
func agreementFlags(e *env, sub, argsUsage, summary string) (*flag.FlagSet, whFlags) {
	fs := cli.NewFlags(e.stdout, "agreements "+sub, argsUsage, summary)
	return fs, whFlags{fs: fs,
		config:    fs.String("config", "", "the configuration `file`, whose warehouse is used unless --warehouse is given"),
		warehouse: fs.String("warehouse", "bibstat-demo/warehouse.duckdb", "the DuckDB warehouse `file`")}
}

// whFlags are the flags that name the warehouse: --warehouse, else with
// --config the config's, else the demo's.
type whFlags struct {
	fs                *flag.FlagSet
	config, warehouse *string
}

// open opens the warehouse the flags name; it never creates one, so a
// mistyped path is an error rather than an empty registry. The caller
// closes its DB.
func (f whFlags) open(ctx context.Context, e *env) (*agreements.Warehouse, error) {
	path, opts := *f.warehouse, transform.Options{}
	if *f.config != "" {
		cfg, err := config.Load(*f.config)
		if err != nil {
			return nil, err
		}
		opts = warehouseOptions(cfg)
		if !isSet(f.fs, "warehouse") {
			path = cfg.Path(cfg.Warehouse.Path)
		}
	}
	wh, err := openWarehouse(ctx, e, path, opts, true, nil)
	if err != nil {
		return nil, err
	}
	return &agreements.Warehouse{DB: wh.DB}, nil
}

// isSet reports whether the flag name was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// openAgreement parses the flags and the one ID among args, opens the
// warehouse and reads that agreement; the caller closes wh.DB.
func openAgreement(ctx context.Context, e *env, fs *flag.FlagSet, whf whFlags, args []string) (*agreements.Warehouse, agreements.Agreement, error) {
	pos, err := cli.ParseInterleaved(fs, args, 1)
	if err != nil {
		return nil, agreements.Agreement{}, err
	}
	wh, err := whf.open(ctx, e)
	if err != nil {
		return nil, agreements.Agreement{}, err
	}
	a, err := wh.Get(ctx, pos[0])
	if err != nil {
		wh.DB.Close()
		return nil, agreements.Agreement{}, err
	}
	return wh, a, nil
}

func agreementsLoad(ctx context.Context, e *env, sub string, args []string) error {
	summary := "Checks FILE: every field, that platforms, libraries and counties exist, that no participant\n" +
		"overlaps itself or leaves the agreement period. Problems are printed as FILE:LINE: FIELD: MESSAGE."
	if sub == "import" {
		summary = "Validates FILE and makes the warehouse's agreements equal to it. Every agreement created,\n" +
			"changed or removed gets a row in agreement_history saying what changed."
	}
	fs, whf := agreementFlags(e, sub, "FILE", summary)
	pos, err := cli.ParseInterleaved(fs, args, 1)
	if err != nil {
		return err
	}
	name := pos[0]
	known := agreements.Known{}
	var wh *agreements.Warehouse
	if *whf.warehouse != "" || *whf.config != "" || sub == "import" {
		if wh, err = whf.open(ctx, e); err != nil {
			return err
		}
		defer wh.DB.Close()
		if known, err = wh.Known(ctx); err != nil {
			return fmt.Errorf("read warehouse: %w", err)
		}
	} else if known.Counties, err = agreements.KnownCounties(); err != nil {
		return err
	}
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("%s: %w", sub, err)
	}
	defer f.Close()
	as, err := agreements.Parse(name, f, known)
	if err != nil {
		printErrors(e.stderr, err)
		return silentError{code: 1}
	}
	if sub == "validate" {
		fmt.Fprintf(e.stdout, "%s: %d agreement(s), valid\n", name, len(as))
		return nil
	}
	res, err := wh.Import(ctx, as, name, time.Now().UTC())
	if err != nil {
		return err
	}
	for _, r := range []struct {
		what string
		ids  []string
	}{{"created", res.Created}, {"changed", res.Changed}, {"removed", res.Removed}, {"unchanged", res.Unchanged}} {
		if len(r.ids) > 0 {
			fmt.Fprintf(e.stdout, "%-9s %s\n", r.what, strings.Join(r.ids, ", "))
		}
	}
	return nil
}

// printErrors writes each of a joined error's problems on its own line.
func printErrors(w io.Writer, err error) {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		for _, e := range joined.Unwrap() {
			printErrors(w, e)
		}
		return
	}
	fmt.Fprintln(w, err)
}

func agreementsList(ctx context.Context, e *env, args []string) error {
	fs, whf := agreementFlags(e, "list", "", "Lists the agreements in the warehouse.")
	if _, err := cli.ParseInterleaved(fs, args, 0); err != nil {
		return err
	}
	wh, err := whf.open(ctx, e)
	if err != nil {
		return err
	}
	defer wh.DB.Close()
	as, err := wh.List(ctx)
	if err != nil {
		return err
	}
	return agreements.WriteList(e.stdout, as)
}

func agreementsShow(ctx context.Context, e *env, args []string) error {
	fs, whf := agreementFlags(e, "show", "ID", "Shows one agreement, its participants and the history of its changes.")
	wh, a, err := openAgreement(ctx, e, fs, whf, args)
	if err != nil {
		return err
	}
	defer wh.DB.Close()
	h, err := wh.History(ctx, a.ID)
	if err != nil {
		return err
	}
	return agreements.WriteAgreement(e.stdout, a, h)
}

func agreementsValue(ctx context.Context, e *env, args []string) error {
	fs, whf := agreementFlags(e, "value", "ID", "Cost, uses, cost per use, cost per inhabitant, participation and each participant's\n"+
		"allocated cost, uses and cost per use, for the whole agreement period or one --year.")
	year := fs.Int("year", 0, "value only this `year` (default: the whole agreement period)")
	explain := fs.Bool("explain", false, "print every figure's formula with its inputs")
	wh, a, err := openAgreement(ctx, e, fs, whf, args)
	if err != nil {
		return err
	}
	defer wh.DB.Close()
	first, last := a.From, a.To
	if *year != 0 {
		if *year < 2000 || *year > 2100 {
			return &cli.UsageError{Msg: "agreements value: --year " + strconv.Itoa(*year) + ": want a year such as 2025"}
		}
		first, last = bibstat.Month{Year: *year, Mon: time.January}, bibstat.Month{Year: *year, Mon: time.December}
	}
	v, err := agreements.Value(ctx, wh, a, first, last)
	if err != nil {
		return err
	}
	return agreements.WriteText(e.stdout, v, *explain)
}
