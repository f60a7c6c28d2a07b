package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"

	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/internal/config"
	"github.com/bibliotek24/bibstat/transform"
)

func explainCommand() command {
	return command{name: "explain", summary: "show where a mart cell's usage came from: the sources counted and those set aside, and why",
		run: func(ctx context.Context, e *env, args []string) error {
			fs := cli.NewFlags(e.stdout, "explain", "CELL", "Prints what the marts count for one cell and every raw object it came from or that was\n"+
				"set aside (the source the platform counts, release, preferred source, newest), and why. CELL is ID/PLATFORM/YYYY-MM for a\n"+
				"library (2030100/avis/2024-01), pool:ID/… for a pool, unattributed:INSTITUTION_ID/… for\n"+
				"usage no library was found for.")
			configFile := fs.String("config", "", "the configuration `file` (its warehouse)")
			warehouse := fs.String("warehouse", "", "the DuckDB warehouse `file` (overrides the config)")
			asJSON := fs.Bool("json", false, "print one JSON document for machines")
			rest, err := cli.ParseInterleaved(fs, args, 1)
			if err != nil {
				return err
			}
			cell, err := transform.ParseCell(rest[0])
			if err != nil {
				return &cli.UsageError{Msg: "explain: " + err.Error()}
			}
			cfg, err := config.Load(*configFile)
			if err != nil {
				return err
			}
			wh, err := openWarehouse(ctx, e, cmp.Or(*warehouse, cfg.Path(cfg.Warehouse.Path)), warehouseOptions(cfg), true, nil)
			if err != nil {
				return fmt.Errorf("explain: %w", err)
			}
			defer wh.Close()
			ex, err := wh.Explain(ctx, cell)
			if err != nil {
				return err
			}
			if *asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(ex)
			}
			return ex.WriteText(e.stdout)
		}}
}
