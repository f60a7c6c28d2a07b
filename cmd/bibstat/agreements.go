package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/agreements"
	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/internal/config"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/transform"
)

const agreementsHelp = `Usage: bibstat agreements SUBCOMMAND [flags] [ARG]

Keeps the registry of agreements and computes what each is worth.

Subcommands:
  validate FILE   check an agreements file against the warehouse's platforms and libraries
  import FILE     validate FILE, store it byte-exact in the object store and make the
                  registry equal to it; prints what it adds, changes and removes
                  (--dry-run stores nothing; removing an agreement needs --yes)
  history         list the imports: time, user, sha256, counts, file
  list            list the agreements in the warehouse
  show ID         show one agreement, its participants and its history (--as-of DATE: as it was then)
  value ID        cost, uses, cost per use, cost per inhabitant and each participant's share
                  (--year Y values one year; --explain prints every formula with its inputs)

Every subcommand takes --warehouse FILE (default bibstat-demo/warehouse.duckdb) and
--archive DIR (default the archive beside the warehouse), or --config FILE for the
config's. The registry's source is its imports in the object store: the warehouse's
agreement tables are replayed from them whenever they lag behind (a rebuilt or new file).
Run 'bibstat agreements SUBCOMMAND --help' for its flags.
`

func agreementsCommand() command {
	return command{name: "agreements", summary: "agreement registry and value per agreement (validate, import, history, list, show, value)",
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
			case "history":
				return agreementsHistory(ctx, e, rest)
			case "show":
				return agreementsShow(ctx, e, rest)
			case "value":
				return agreementsValue(ctx, e, rest)
			}
			return &cli.UsageError{Msg: fmt.Sprintf("agreements: unknown subcommand %q (run 'bibstat agreements --help')", sub)}
		}}
}

// agreementFlags is a flag set with --config, --warehouse and --archive;
// args may put flags after the positional arguments ("value ID --year 2025").
func agreementFlags(e *env, sub, argsUsage, summary string) (*flag.FlagSet, whFlags) {
	fs := cli.NewFlags(e.stdout, "agreements "+sub, argsUsage, summary)
	return fs, whFlags{fs: fs,
		config:    fs.String("config", "", "the configuration `file`, whose warehouse and store are used unless --warehouse or --archive is given"),
		warehouse: fs.String("warehouse", "bibstat-demo/warehouse.duckdb", "the DuckDB warehouse `file`"),
		archive:   fs.String("archive", "", "the object store `dir`ectory that keeps the imports (default: archive beside the warehouse)")}
}

// whFlags are the flags that name the warehouse and the store: the flag,
// else with --config the config's, else the demo's layout.
type whFlags struct {
	fs                         *flag.FlagSet
	config, warehouse, archive *string
}

// open opens the warehouse the flags name and brings its registry up to
// the imports in the store; it never creates a warehouse, so a mistyped
// path is an error rather than an empty registry. The store is nil when
// none is named and none lies beside the warehouse, unless needStore. The
// caller closes its DB.
func (f whFlags) open(ctx context.Context, e *env, needStore bool) (*agreements.Warehouse, store.Store, error) {
	path, opts, dir := *f.warehouse, transform.Options{}, *f.archive
	cfg, err := config.InDir(filepath.Dir(path))
	if *f.config != "" {
		cfg, err = config.Load(*f.config)
	}
	if err != nil {
		return nil, nil, err
	}
	if *f.config != "" {
		opts = warehouseOptions(cfg)
		if !isSet(f.fs, "warehouse") {
			path = cfg.Path(cfg.Warehouse.Path)
		}
	} else if dir == "" {
		dir = filepath.Join(filepath.Dir(path), "archive")
		if _, err := os.Stat(dir); err != nil && !needStore {
			dir = ""
		}
	}
	wh, err := openWarehouse(ctx, e, path, opts, true, nil)
	if err != nil {
		return nil, nil, err
	}
	aw := &agreements.Warehouse{DB: wh.DB}
	if dir == "" && *f.config == "" {
		return aw, nil, nil
	}
	st, err := openStore(ctx, cfg, dir)
	if err == nil {
		err = restoreAgreements(ctx, e, aw, st)
	}
	if err != nil && (needStore || !errors.Is(err, agreements.ErrDiverged)) {
		wh.Close()
		return nil, nil, err
	}
	if err != nil {
		e.log.Warn("agreement registry differs from the store's imports; showing the warehouse's", "err", err)
	}
	return aw, st, nil
}

// syncAgreements is agreements.Sync, logging to e's log.
func syncAgreements(ctx context.Context, e *env, db *sql.DB, st store.Store) error {
	return agreements.Sync(ctx, e.log, db, st)
}

// syncAgreementsAt is syncAgreements on the warehouse file at path.
func syncAgreementsAt(ctx context.Context, e *env, path string, opts transform.Options, st store.Store) error {
	wh, err := openWarehouse(ctx, e, path, opts, true, nil)
	if err != nil {
		return err
	}
	err = syncAgreements(ctx, e, wh.DB, st)
	if cerr := wh.Close(); err == nil {
		err = cerr
	}
	return err
}

// restoreAgreements replays the store's agreement imports that the
// warehouse lacks: after a rebuild, all of them.
func restoreAgreements(ctx context.Context, e *env, wh *agreements.Warehouse, st store.Store) error {
	return wh.RestoreLogged(ctx, e.log, st)
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
	wh, _, err := whf.open(ctx, e, false)
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
	summary := "Checks FILE: every field, that platforms, libraries and counties exist (a county or a library's\n" +
		"municipality in the structure of each month it takes part in), that no participant overlaps\n" +
		"itself or leaves the agreement period. Problems are printed as FILE:LINE: FIELD: MESSAGE."
	if sub == "import" {
		summary = "Validates FILE, stores it byte-exact in the object store (register/agreements/, with its\n" +
			"sha256, time and user) and makes the warehouse's agreements equal to it. Prints every agreement\n" +
			"added, changed (field by field) and removed; removing one needs --yes."
	}
	fs, whf := agreementFlags(e, sub, "FILE", summary)
	var dryRun, yes *bool
	var by *string
	if sub == "import" {
		dryRun = fs.Bool("dry-run", false, "print what the import would change; store nothing")
		yes = fs.Bool("yes", false, "remove the agreements that FILE no longer holds")
		by = fs.String("by", agreements.LoginName(), "the importing `user`, kept with the import (default $USER)")
	}
	pos, err := cli.ParseInterleaved(fs, args, 1)
	if err != nil {
		return err
	}
	name := pos[0]
	b, err := os.ReadFile(name)
	if err != nil {
		return fmt.Errorf("%s: %w", sub, err)
	}
	known := agreements.Known{}
	var wh *agreements.Warehouse
	var st store.Store
	if *whf.warehouse != "" || *whf.config != "" || sub == "import" {
		if wh, st, err = whf.open(ctx, e, sub == "import"); err != nil {
			return err
		}
		defer wh.DB.Close()
		if known, err = wh.Known(ctx); err != nil {
			return fmt.Errorf("read warehouse: %w", err)
		}
	} else if known.Counties, err = agreements.KnownCounties(); err != nil {
		return err
	}
	as, err := agreements.Parse(name, bytes.NewReader(b), known)
	if err != nil {
		agreements.WriteErrors(e.stderr, err)
		return silentError{code: 1}
	}
	if sub == "validate" {
		fmt.Fprintf(e.stdout, "%s: %d agreement(s), valid\n", name, len(as))
		return nil
	}
	return importAgreements(ctx, e, wh, st, as, b, name, agreements.ImportOptions{DryRun: *dryRun, Yes: *yes, By: *by})
}

// importAgreements runs agreements.Import, printing to e and giving
// the command's errors and exit code.
func importAgreements(ctx context.Context, e *env, wh *agreements.Warehouse, st store.Store, as []agreements.Agreement, b []byte, name string, opts agreements.ImportOptions) error {
	err := agreements.Import(ctx, e.stdout, wh, st, as, b, name, opts)
	var rm *agreements.RemovalError
	switch {
	case errors.As(err, &rm):
		fmt.Fprintf(e.stderr, "agreements import: %s\n", rm)
		return silentError{code: 1}
	case errors.Is(err, agreements.ErrNoUser):
		return &cli.UsageError{Msg: "agreements import: --by: say who imports ($USER is not set)"}
	}
	return err
}

func agreementsList(ctx context.Context, e *env, args []string) error {
	return agreementsPrint(ctx, e, args, "list", "Lists the agreements in the warehouse.", func(wh *agreements.Warehouse) error {
		as, err := wh.List(ctx)
		if err != nil {
			return err
		}
		return agreements.WriteList(e.stdout, as)
	})
}

func agreementsHistory(ctx context.Context, e *env, args []string) error {
	return agreementsPrint(ctx, e, args, "history", "Lists the imports of the registry, oldest first: time, user, sha256, agreements\n"+
		"in the file, how many it added, changed and removed, and the file name.", func(wh *agreements.Warehouse) error {
		rows, err := wh.Imports(ctx)
		if err != nil {
			return err
		}
		return agreements.WriteImports(e.stdout, rows)
	})
}

// agreementsPrint runs a subcommand without arguments that prints from the
// warehouse's registry.
func agreementsPrint(ctx context.Context, e *env, args []string, sub, summary string, print func(*agreements.Warehouse) error) error {
	fs, whf := agreementFlags(e, sub, "", summary)
	if _, err := cli.ParseInterleaved(fs, args, 0); err != nil {
		return err
	}
	wh, _, err := whf.open(ctx, e, false)
	if err != nil {
		return err
	}
	defer wh.DB.Close()
	return print(wh)
}

func agreementsShow(ctx context.Context, e *env, args []string) error {
	fs, whf := agreementFlags(e, "show", "ID", "Shows one agreement, its participants and the history of its changes;\n"+
		"--as-of shows it as it stood then, --explain adds its value over the whole period with every formula.")
	asOf := fs.String("as-of", "", "show the agreement as it stood at the end of this `date` (YYYY-MM-DD, UTC) or time (RFC 3339)")
	explain := fs.Bool("explain", false, "add the value over the agreement period: uses (own, pooled share, total), costs, each formula")
	pos, err := cli.ParseInterleaved(fs, args, 1)
	if err != nil {
		return err
	}
	var at time.Time
	if *asOf != "" {
		if at, err = agreements.ParseAsOf(*asOf); err != nil {
			return &cli.UsageError{Msg: "agreements show: --as-of " + *asOf + ": want a date YYYY-MM-DD or an RFC 3339 time"}
		}
	}
	wh, _, err := whf.open(ctx, e, false)
	if err != nil {
		return err
	}
	defer wh.DB.Close()
	var a agreements.Agreement
	var h []agreements.HistoryRow
	if *asOf != "" {
		a, h, err = wh.AsOf(ctx, pos[0], at)
	} else if a, err = wh.Get(ctx, pos[0]); err == nil {
		h, err = wh.History(ctx, a.ID)
	}
	if err != nil {
		return err
	}
	if err := agreements.WriteAgreement(e.stdout, a, h); err != nil || !*explain {
		return err
	}
	v, err := agreements.Value(ctx, wh, a, a.From, a.To)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout)
	return agreements.WriteText(e.stdout, v, true)
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
