package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest"
	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/internal/config"
)

func harvestCommand() command {
	return command{name: "harvest", summary: "harvest SUSHI usage now (--once), resuming where the last run stopped",
		run: func(ctx context.Context, e *env, args []string) error {
			fs := cli.NewFlags(e.stdout, "harvest", "", "Harvests COUNTER usage from every configured credential, politely: one request in\n"+
				"flight per vendor host, spaced. Units already ok are not fetched again, except the\n"+
				"refresh months; units waiting to be retried are fetched when due. Ctrl-C stops cleanly\n"+
				"and a rerun resumes. Exits 1 if the object store or ledger fails, 3 if units failed or\n"+
				"could not run (a credential whose secrets cannot be resolved).")
			once := fs.Bool("once", false, "run one harvest now and exit (required; 'bibstat serve' runs it nightly)")
			cfgPath := fs.String("config", config.DefaultFile(), "the configuration `file`")
			platform := fs.String("platform", "", "harvest only this `platform` id")
			library := fs.String("library", "", "harvest only this library (`bibnr`)")
			from := fs.String("from", "", "first `month` YYYY-MM (default the schedule's start)")
			to := fs.String("to", "", "last `month` YYYY-MM (default last month)")
			force := fs.Bool("force", false, "retry units that gave up, are unsupported or have broken credentials")
			progress := fs.String("progress", "auto", "`mode`: bar, log or auto (a bar on a terminal)")
			if err := cli.Parse(fs, args); err != nil {
				return err
			}
			if !*once {
				return &cli.UsageError{Msg: "harvest: give --once to harvest now, or run 'bibstat serve' for the nightly harvest"}
			}
			if fs.NArg() > 0 {
				return &cli.UsageError{Msg: fmt.Sprintf("harvest takes no arguments, got %q", fs.Args())}
			}
			o := ingest.PlanOptions{Platform: *platform, Library: *library}
			var err error
			if o.From, err = optMonth("from", *from); err != nil {
				return err
			}
			if o.To, err = optMonth("to", *to); err != nil {
				return err
			}
			cfg, err := loadConfig(*cfgPath)
			if err != nil {
				return err
			}
			if *platform != "" {
				if _, ok := cfg.Platform(*platform); !ok {
					return &cli.UsageError{Msg: fmt.Sprintf("harvest: no platform %q in %s", *platform, *cfgPath)}
				}
			}
			if *library != "" {
				if _, ok := cfg.Library(*library); !ok {
					return &cli.UsageError{Msg: fmt.Sprintf("harvest: no library %q in %s", *library, *cfgPath)}
				}
			}
			sum, err := runHarvest(ctx, e, cfg, o, *force, *progress)
			var notRun *unitsNotRunError
			if errors.As(err, &notRun) {
				fmt.Fprintln(e.stderr, "bibstat: harvest:", err)
				return silentError{code: 3}
			}
			if err != nil {
				return err
			}
			if sum.States[bibstat.StateFailed] > 0 || sum.States[bibstat.StateCredentialsBroken] > 0 {
				return silentError{code: 3}
			}
			return nil
		}}
}

func optMonth(name, s string) (bibstat.Month, error) {
	if s == "" {
		return bibstat.Month{}, nil
	}
	m, err := bibstat.ParseMonth(s)
	if err != nil {
		return m, &cli.UsageError{Msg: fmt.Sprintf("--%s: %v", name, err)}
	}
	return m, nil
}

// runHarvest plans and runs one harvest of cfg and prints its summary.
func runHarvest(ctx context.Context, e *env, cfg *config.Loaded, o ingest.PlanOptions, force bool, progress string) (ingest.Summary, error) {
	loc, err := time.LoadLocation(cfg.Schedule.Timezone)
	if err != nil {
		return ingest.Summary{}, fmt.Errorf("schedule timezone: %w", err)
	}
	if o.Now.IsZero() {
		o.Now = time.Now().In(loc)
	}
	jobs, from, to, errs := ingest.Plan(&cfg.Config, o)
	if to.Before(from) {
		return ingest.Summary{}, &cli.UsageError{Msg: fmt.Sprintf("harvest: the first month %s is after the last %s; check --from and --to", from, to)}
	}
	notRun := &unitsNotRunError{}
	for _, err := range errs {
		e.log.Error("credential left out of the harvest", "error", err)
		notRun.add(err)
	}
	st, err := openStore(ctx, cfg, "")
	if err != nil {
		return ingest.Summary{}, err
	}
	if err := ensureLedger(ctx, e, cfg, st); err != nil {
		return ingest.Summary{}, err
	}
	led, err := ledger.Open(cfg.Path(cfg.Ledger.Path))
	if err != nil {
		return ingest.Summary{}, err
	}
	defer led.Close()
	led.SetSyncInterval(250 * time.Millisecond) // Run syncs at its end; a crash costs refetching a moment's units
	h := &ingest.Harvester{Store: st, Ledger: led, Fetcher: sushiClient(cfg), Log: e.log, Spacing: cfg.Harvest.Spacing.D(), Force: force}
	bar := cli.NewProgress(e.stderr, progress)
	h.Progress = bar.Update
	fmt.Fprintf(e.stdout, "harvest %s to %s: %d units planned\n", from, to, len(jobs))
	start := time.Now()
	sum, err := h.Run(ctx, jobs)
	bar.Finish()
	cli.WriteSummary(e.stdout, sum, time.Since(start))
	switch {
	case errors.Is(err, bibstat.ErrStoreUnavailable):
		fmt.Fprintf(e.stdout, "harvest stopped: the object store is unavailable; nothing after the failure was recorded as harvested. Run again when it is back.\n")
		return sum, fmt.Errorf("harvest stopped: %w", err)
	case err != nil:
		return sum, err
	}
	if notRun.creds > 0 {
		fmt.Fprintf(e.stdout, "credentials left out: %d (see the log)\n", notRun.creds)
		return sum, notRun
	}
	return sum, nil
}

// unitsNotRunError says how many units a harvest could not even ask for,
// and why: a night in which every credential was left out must not look
// like a night with nothing to do.
type unitsNotRunError struct {
	units, creds int
	first        error
}

func (e *unitsNotRunError) add(err error) {
	var np *ingest.NotPlannedError
	if errors.As(err, &np) {
		e.units += np.Units
	}
	if e.creds == 0 {
		e.first = err
	}
	e.creds++
}

func (e *unitsNotRunError) Error() string {
	creds := "credentials"
	if e.creds == 1 {
		creds = "credential"
	}
	msg := fmt.Sprintf("%d units of %d %s could not run: %v", e.units, e.creds, creds, e.first)
	if e.units == 0 { // nothing was due for them, but their secrets still need mending
		msg = fmt.Sprintf("%d %s could not run: %v", e.creds, creds, e.first)
	}
	if e.creds > 1 {
		msg += fmt.Sprintf(" (and %d more credentials, see the log)", e.creds-1)
	}
	return msg
}

func (e *unitsNotRunError) Unwrap() error { return e.first }
