package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/bibliotek24/bibstat/report"
	"github.com/bibliotek24/bibstat/transform"
)

func reportCommand() command {
	return command{name: "report", summary: "write the static report site from the warehouse",
		run: func(ctx context.Context, e *env, args []string) error {
			fs := newFlags(e, "report", "", "Writes the report site: an index, the nation, one page per library, with\n"+
				"charts, their numbers as tables, and CSV, XLSX, COUNTER TSV and Parquet downloads.")
			warehouse := fs.String("warehouse", filepath.Join("bibstat-demo", "warehouse.duckdb"), "the DuckDB warehouse `file`")
			out := fs.String("out", filepath.Join("bibstat-demo", "site"), "the `dir`ectory to write the site into")
			lang := fs.String("lang", "nb", "`lang`uage: nb (Bokmål), nn (Nynorsk) or en")
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			if fs.NArg() > 0 {
				return &usageError{msg: fmt.Sprintf("report takes no arguments, got %q", fs.Args())}
			}
			switch *lang {
			case "nb", "nn", "en":
			default:
				return &usageError{msg: fmt.Sprintf("report: --lang %q: want nb, nn or en", *lang)}
			}
			wh, err := transform.Open(ctx, *warehouse, transform.Options{}, e.log)
			if err != nil {
				return err
			}
			defer wh.Close()
			sum, err := (&report.Site{DB: wh.DB, Out: *out, Lang: report.Lang(*lang)}).Build(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "pages written: %d\nopen: %s\n", sum.Pages, sum.Index)
			return nil
		}}
}
