package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/report"
	"github.com/bibliotek24/bibstat/transform"
)

func reportCommand() command {
	return command{name: "report", summary: "write the static report site from the warehouse",
		run: func(ctx context.Context, e *env, args []string) error {
			fs := cli.NewFlags(e.stdout, "report", "", "Writes the report site: an index, the nation, every county, library and agreement,\n"+
				"with charts, their numbers as tables, and CSV, XLSX, COUNTER TSV and Parquet downloads.")
			configFile := fs.String("config", "", "the configuration `file` (warehouse and store); default: built-in defaults")
			warehouse := fs.String("warehouse", "", "the DuckDB warehouse `file` (overrides the config)")
			out := fs.String("out", filepath.Join("bibstat-demo", "site"), "the `dir`ectory to write the site into")
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
			cfg, err := configOrDefault(*configFile)
			if err != nil {
				return err
			}
			path := cmp.Or(*warehouse, cfg.Warehouse.Path)
			if _, err := os.Stat(path); err != nil {
				return fmt.Errorf("report: warehouse %s: %w (run 'bibstat transform' or 'bibstat demo' first)", path, err)
			}
			wh, err := transform.Open(ctx, path, warehouseOptions(cfg.Warehouse), e.log)
			if err != nil {
				return err
			}
			defer wh.Close()
			sum, err := (&report.Site{DB: wh.DB, Out: *out, Lang: report.Lang(*lang)}).Build(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "pages written: %d\nopen: %s\n", sum.Pages, sum.Index)
			if !*publish {
				return nil
			}
			st, err := openArchive(ctx, cfg, *archive)
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
