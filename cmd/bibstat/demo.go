package main

import (
	"context"
	"fmt"
	"time"

	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/internal/config"
	"github.com/bibliotek24/bibstat/internal/demo"
	"github.com/bibliotek24/bibstat/report"
)

func demoCommand() command {
	return command{name: "demo", summary: "run the whole pipeline offline on simulated vendors",
		run: func(ctx context.Context, e *env, args []string) error {
			fs := cli.NewFlags(e.stdout, "demo", "", "Runs the whole pipeline offline: simulated SUSHI vendors on loopback, a local\n"+
				"object store, a DuckDB warehouse and the report site, all under --out.\nRunning it again is safe and gives the same numbers.")
			out := fs.String("out", "bibstat-demo", "the `dir`ectory to write into")
			spacing := fs.Duration("spacing", 10*time.Millisecond, "least `time` between two requests to one simulated vendor")
			lang := fs.String("lang", "nb", "report `lang`uage: nb, nn or en")
			if err := cli.Parse(fs, args); err != nil {
				return err
			}
			if fs.NArg() > 0 {
				return &cli.UsageError{Msg: fmt.Sprintf("demo takes no arguments, got %q", fs.Args())}
			}
			return runDemo(ctx, e, demoOptions{Out: *out, Spacing: *spacing, Lang: report.Lang(*lang)})
		}}
}

type demoOptions struct {
	Out     string
	Spacing time.Duration
	Lang    report.Lang
}

func runDemo(ctx context.Context, e *env, o demoOptions) error {
	res, err := buildDemo(ctx, e, o)
	if err != nil {
		return err
	}
	w := e.stdout
	fmt.Fprintf(w, "harvested units: %d (%d fetched now, %d already in the archive)%s\n",
		res.Harvest.Jobs, res.Harvest.Fetched, res.Harvest.Skipped, cli.FormatStates(res.Harvest.States))
	fmt.Fprintf(w, "rows in warehouse: %d (%d units, %d loaded now)\n", res.FactRows, res.Load.Units, res.Load.Loaded)
	fmt.Fprintf(w, "agreements valued: %d\n", res.Agreements)
	fmt.Fprintf(w, "pages written: %d\n", res.Pages)
	fmt.Fprintf(w, "open: %s\n", res.IndexPath)
	return nil
}

// buildDemo runs the demo under o.Out, laid out as the default config is.
func buildDemo(ctx context.Context, e *env, o demoOptions) (demo.Result, error) {
	cfg, err := config.InDir(o.Out)
	if err != nil {
		return demo.Result{}, err
	}
	st, err := openStore(ctx, cfg, "")
	if err != nil {
		return demo.Result{}, err
	}
	led, err := ledger.Open(cfg.Path(cfg.Ledger.Path))
	if err != nil {
		return demo.Result{}, err
	}
	defer led.Close()
	wh, err := openWarehouse(ctx, e, cfg.Path(cfg.Warehouse.Path), warehouseOptions(cfg), false, nil)
	if err != nil {
		return demo.Result{}, err
	}
	defer wh.Close()
	return demo.Run(ctx, demo.Setup{Store: st, Ledger: led, Warehouse: wh, SiteDir: cfg.Path(cfg.Server.SiteDir),
		Spacing: o.Spacing, Lang: o.Lang, Log: e.log})
}
