package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest"
	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/ingest/sushi"
	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/internal/config"
	"github.com/bibliotek24/bibstat/internal/demo"
	"github.com/bibliotek24/bibstat/internal/sushisim"
	"github.com/bibliotek24/bibstat/report"
	"github.com/bibliotek24/bibstat/transform"
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

// demoResult is what the demo did, for its summary and its test.
type demoResult struct {
	Harvest    ingest.Summary
	Load       transform.LoadSummary
	FactRows   int64
	Agreements int
	Pages      int
	IndexPath  string
}

func runDemo(ctx context.Context, e *env, o demoOptions) error {
	res, err := buildDemo(ctx, e, o)
	if err != nil {
		return err
	}
	w := e.stdout
	fmt.Fprintf(w, "harvested units: %d (%d fetched now, %d already in the archive)%s\n",
		res.Harvest.Jobs, res.Harvest.Fetched, res.Harvest.Skipped, formatStates(res.Harvest.States))
	fmt.Fprintf(w, "rows in warehouse: %d (%d units, %d loaded now)\n", res.FactRows, res.Load.Units, res.Load.Loaded)
	fmt.Fprintf(w, "agreements valued: %d\n", res.Agreements)
	fmt.Fprintf(w, "pages written: %d\n", res.Pages)
	fmt.Fprintf(w, "open: %s\n", res.IndexPath)
	return nil
}

func formatStates(states map[bibstat.State]int) string {
	if len(states) == 0 {
		return ""
	}
	var parts []string
	for s, n := range states {
		parts = append(parts, fmt.Sprintf("%s=%d", s, n))
	}
	sort.Strings(parts)
	return ": " + strings.Join(parts, " ")
}

// demo runs simulator → harvest → archive → warehouse → report under o.Out.
func buildDemo(ctx context.Context, e *env, o demoOptions) (demoResult, error) {
	var res demoResult
	// The demo's layout under --out is the default configuration's.
	cfg, err := config.InDir(o.Out)
	if err != nil {
		return res, err
	}
	world, err := sushisim.Demo()
	if err != nil {
		return res, err
	}
	bases, stop, err := demo.ServeVendors(&world, nil)
	if err != nil {
		return res, err
	}
	defer stop()

	st, err := openStore(ctx, cfg, "")
	if err != nil {
		return res, err
	}
	led, err := ledger.Open(cfg.Path(cfg.Ledger.Path))
	if err != nil {
		return res, err
	}
	defer led.Close()

	h := &ingest.Harvester{Store: st, Ledger: led, Fetcher: &sushi.Client{HTTP: &http.Client{Timeout: 30 * time.Second}, UserAgent: "BibStat demo"},
		Log: e.log, Spacing: o.Spacing}
	if res.Harvest, err = h.Run(ctx, demo.Jobs(&world, bases)); err != nil {
		return res, fmt.Errorf("harvest: %w", err)
	}

	wh, err := openWarehouse(ctx, e, cfg.Path(cfg.Warehouse.Path), warehouseOptions(cfg), false, nil)
	if err != nil {
		return res, err
	}
	defer wh.Close()
	// The register lives in the store beside the raw archive, so that a
	// rebuild of the warehouse needs nothing but the store.
	if err := st.Put(ctx, bibstat.LibrariesCSVKey, bytes.NewReader(demo.Register(&world))); err != nil {
		return res, err
	}
	if res.Load, err = wh.Update(ctx, st); err != nil {
		return res, err
	}
	if res.Agreements, err = demo.ImportExampleAgreements(ctx, wh); err != nil {
		return res, err
	}
	if err := wh.DB.QueryRowContext(ctx, `SELECT count(*) FROM facts`).Scan(&res.FactRows); err != nil {
		return res, fmt.Errorf("count facts: %w", err)
	}

	site := &report.Site{DB: wh.DB, Out: cfg.Path(cfg.Server.SiteDir), Lang: o.Lang}
	sum, err := site.Build(ctx)
	if err != nil {
		return res, err
	}
	res.Pages, res.IndexPath = sum.Pages, sum.Index
	return res, nil
}
