package main

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/internal/config"
	"github.com/bibliotek24/bibstat/report"
)

func reportCommand() command {
	return command{name: "report", summary: "write the static report site from the warehouse",
		run: func(ctx context.Context, e *env, args []string) error {
			fs := cli.NewFlags(e.stdout, "report", "", "Writes the report site: an index, the nation, every county, library and agreement,\n"+
				"with charts, their numbers as tables, and CSV, XLSX, COUNTER TSV and Parquet downloads.")
			configFile := fs.String("config", "", "the configuration `file` (warehouse and store); default: built-in defaults in the working directory")
			warehouse := fs.String("warehouse", "", "the DuckDB warehouse `file` (overrides the config)")
			out := fs.String("out", "", "the `dir`ectory to write the site into (default the config's server.site_dir, else bibstat-demo/site)")
			lang := fs.String("lang", "nb", "`lang`uage: nb (Bokmål), nn (Nynorsk) or en")
			publish := fs.Bool("publish", false, "also copy the site into the object store under reports/")
			archive := fs.String("archive", "", "with --publish: a local object-store `dir` (overrides the config's store)")
			if err := cli.Parse(fs, args); err != nil {
				return err
			}
			if fs.NArg() > 0 {
				return &cli.UsageError{Msg: fmt.Sprintf("report takes no arguments, got %q", fs.Args())}
			}
			switch *lang {
			case "nb", "nn", "en":
			default:
				return &cli.UsageError{Msg: fmt.Sprintf("report: --lang %q: want nb, nn or en", *lang)}
			}
			cfg, err := config.Load(*configFile)
			if err != nil {
				return err
			}
			if *out == "" {
				*out = filepath.Join("bibstat-demo", "site")
				if *configFile != "" {
					*out = cfg.Path(cfg.Server.SiteDir)
				}
			}
			wh, err := openWarehouse(ctx, e, cmp.Or(*warehouse, cfg.Path(cfg.Warehouse.Path)), warehouseOptions(cfg), true, nil)
			if err != nil {
				return fmt.Errorf("report: %w", err)
			}
			defer wh.Close()
			site, err := newSite(cfg, wh.DB, *out, report.Lang(*lang))
			if err != nil {
				return err
			}
			sum, err := site.Build(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "pages written: %d\nopen: %s\n", sum.Pages, sum.Index)
			if !*publish {
				return nil
			}
			st, err := openStore(ctx, cfg, *archive)
			if err != nil {
				return err
			}
			n, err := report.Publish(ctx, *out, st)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "published: %d files under reports/\n", n)
			return nil
		}}
}

// newSite is the report site as report and serve build it: the platforms'
// display names from the config and, for the coverage lines, what the
// harvest ledger knows. Without a ledger file (nothing harvested, uploads
// only) Harvests stays nil and the pages say they cannot tell what is missing.
func newSite(cfg *config.Loaded, db *sql.DB, out string, lang report.Lang) (*report.Site, error) {
	site := &report.Site{DB: db, Out: out, Lang: lang, Platforms: map[string]string{}}
	for _, p := range cfg.Platforms {
		if p.Name != "" {
			site.Platforms[p.ID] = p.Name
		}
	}
	entries, err := ledger.ReadAll(cfg.Path(cfg.Ledger.Path))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return site, nil
	case err != nil:
		return nil, fmt.Errorf("report coverage: %w", err)
	}
	site.Harvests = []report.Harvest{}
	for _, e := range entries {
		if m, err := bibstat.ParseMonth(e.Month); err == nil {
			site.Harvests = append(site.Harvests, report.Harvest{Platform: e.Platform, Library: string(e.Library), Month: m, State: e.State, At: e.UpdatedAt})
		}
	}
	return site, nil
}
