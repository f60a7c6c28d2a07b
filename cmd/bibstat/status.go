package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/internal/config"
	"github.com/bibliotek24/bibstat/internal/status"
)

func statusCommand() command {
	return command{name: "status", summary: "print the harvest's completeness: library × platform × month, what is missing and why",
		run: func(ctx context.Context, e *env, args []string) error {
			fs := cli.NewFlags(e.stdout, "status", "", "Reads the ledger (while a harvest may be running) and prints, for every library ×\n"+
				"platform × month, the units by state and what is missing and why. With a config, units\n"+
				"never harvested count as missing.")
			cfgPath := fs.String("config", config.DefaultFile(), "the configuration `file`; its ledger and credentials are used")
			ledgerPath := fs.String("ledger", "", "read this ledger `file` instead of the config's (no expected units)")
			asJSON := fs.Bool("json", false, "print one JSON document for machines")
			platform := fs.String("platform", "", "only this `platform` id")
			library := fs.String("library", "", "only this library (`bibnr`)")
			from := fs.String("from", "", "first `month` YYYY-MM")
			to := fs.String("to", "", "last `month` YYYY-MM")
			limit := fs.Int("limit", 50, "list at most `n` missing units in text")
			if err := cli.Parse(fs, args); err != nil {
				return err
			}
			o := status.Options{Platform: *platform, Library: *library}
			var err error
			if o.From, err = optMonth("from", *from); err != nil {
				return err
			}
			if o.To, err = optMonth("to", *to); err != nil {
				return err
			}
			path := *ledgerPath
			var cfg *config.Loaded
			if path == "" {
				if cfg, err = loadConfig(*cfgPath); err != nil {
					return err
				}
				path = cfg.Path(cfg.Ledger.Path)
				st, err := openStore(ctx, cfg, "")
				if err != nil {
					return err
				}
				if err := ensureLedger(ctx, e, cfg, st); err != nil {
					return err
				}
			}
			entries, err := ledger.ReadAll(path)
			if err != nil {
				return err
			}
			var c *config.Config
			if cfg != nil {
				c = &cfg.Config
			}
			rep := status.Build(c, entries, o, time.Now())
			rep.Ledger = path
			if cfg != nil {
				// The warehouse may be held by a running serve: status still shows the ledger.
				if rep.Unmapped, err = unmappedInstitutions(ctx, e, cfg, o); err != nil {
					e.log.Warn("unmapped institutions not read from the warehouse", "err", err)
				}
			}
			if *asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			if err := rep.WriteText(e.stdout, *limit); err != nil {
				return err
			}
			if len(entries) == 0 {
				fmt.Fprintln(e.stdout, "nothing harvested yet: run 'bibstat harvest --once' (or 'bibstat demo' to try BibStat)")
			}
			return nil
		}}
}

// unmappedInstitutions reads the warehouse's unattributed usage for
// status; a warehouse not made yet has none to show.
func unmappedInstitutions(ctx context.Context, e *env, cfg *config.Loaded, o status.Options) ([]status.Unmapped, error) {
	path := cfg.Path(cfg.Warehouse.Path)
	if _, err := os.Stat(path); err != nil {
		return nil, nil
	}
	wh, err := openWarehouse(ctx, e, path, warehouseOptions(cfg), true, nil)
	if err != nil {
		return nil, err
	}
	defer wh.Close()
	return status.ReadUnmapped(ctx, wh.DB, o)
}
