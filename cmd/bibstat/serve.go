package main

import (
	"context"
	"fmt"
	"time"
	_ "time/tzdata" // Europe/Oslo must load on machines without a zoneinfo database

	"github.com/bibliotek24/bibstat/ingest"
)

func serveCommand() command {
	return command{name: "serve", summary: "run the nightly harvest on its schedule (cron in config, default 02:00 Europe/Oslo)",
		run: func(ctx context.Context, e *env, args []string) error {
			fs := newFlags(e, "serve", "", "Runs until stopped (Ctrl-C or SIGTERM stop it cleanly, finishing no new request).\n"+
				"Every night, by schedule.cron in schedule.timezone, it harvests every credential from\n"+
				"schedule.start (backfill) to last month, fetching again the last schedule.refresh_months\n"+
				"months, which vendors restate, and retrying units whose next attempt is due.")
			cfgPath := fs.String("config", defaultConfig(), "the configuration `file`")
			now := fs.Bool("now", false, "also harvest once right away")
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			if fs.NArg() > 0 {
				return &usageError{msg: fmt.Sprintf("serve takes no arguments, got %q", fs.Args())}
			}
			cfg, err := loadConfig(*cfgPath)
			if err != nil {
				return err
			}
			loc, err := time.LoadLocation(cfg.Schedule.Timezone)
			if err != nil {
				return fmt.Errorf("schedule timezone: %w", err)
			}
			harvest := func(ctx context.Context, at time.Time) error {
				// Re-read the config each night so a fixed credential is used without a restart.
				if fresh, err := loadConfig(*cfgPath); err == nil {
					cfg = fresh
				} else {
					e.log.Error("config unreadable; using the one loaded before", "error", err)
				}
				_, err := runHarvest(ctx, e, cfg, ingest.PlanOptions{Now: at}, false, "log")
				return err
			}
			next, err := ingest.Next(cfg.Schedule.Cron, loc, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "serve: harvesting on %q in %s; next run %s\n", cfg.Schedule.Cron, loc, next.Format(time.RFC3339))
			if *now {
				if err := harvest(ctx, time.Now().In(loc)); err != nil && ctx.Err() == nil {
					e.log.Error("harvest failed", "error", err)
				}
			}
			s := &ingest.Schedule{Spec: cfg.Schedule.Cron, Location: loc, Harvest: harvest, Log: e.log}
			if err := s.Run(ctx); err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, "serve: stopped")
			return nil
		}}
}
