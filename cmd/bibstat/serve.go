package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
	_ "time/tzdata" // Europe/Oslo must load on machines without a zoneinfo database

	"github.com/bibliotek24/bibstat/ingest"
	"github.com/bibliotek24/bibstat/ingest/upload"
	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/internal/config"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/nightly"
	"github.com/bibliotek24/bibstat/report"
	"github.com/bibliotek24/bibstat/server"
	"github.com/bibliotek24/bibstat/transform"
)

func serveCommand() command {
	return command{name: "serve", unattended: true, summary: "run the portal and SUSHI server, and the nightly harvest → transform → report",
		run: func(ctx context.Context, e *env, args []string) error {
			fs := cli.NewFlags(e.stdout, "serve", "", "Runs until stopped (Ctrl-C or SIGTERM stop it cleanly, finishing no new request).\n"+
				"It serves the portal, the SUSHI server, /healthz and /metrics on server.listen, and every\n"+
				"night, by schedule.cron in schedule.timezone, it harvests every credential from\n"+
				"schedule.start (backfill) to last month, fetching again the last schedule.refresh_months\n"+
				"months, which vendors restate, and retrying units whose next attempt is due; then it\n"+
				"reads the upload inbox, updates the warehouse and writes the report site. Each stage\n"+
				"is recorded in server.run_log and shown on /admin.")
			cfgPath := fs.String("config", config.DefaultFile(), "the configuration `file`")
			now := fs.Bool("now", false, "also run the nightly pipeline once right away")
			create := fs.Bool("create", false, "create the warehouse's folder when it does not exist")
			if err := cli.Parse(fs, args); err != nil {
				return err
			}
			if fs.NArg() > 0 {
				return &cli.UsageError{Msg: fmt.Sprintf("serve takes no arguments, got %q", fs.Args())}
			}
			cfg, err := loadConfig(*cfgPath)
			if err != nil {
				return err
			}
			if *create {
				if err := warehouseDir(cfg.Path(cfg.Warehouse.Path), true); err != nil {
					return err
				}
			}
			return runServe(ctx, e, *cfgPath, cfg, *now)
		}}
}

// runServe runs the server and the schedule as one group: either ending
// with an error stops the other; a cancelled ctx stops both cleanly.
func runServe(ctx context.Context, e *env, cfgPath string, cfg *config.Loaded, runNow bool) error {
	loc, err := time.LoadLocation(cfg.Schedule.Timezone)
	if err != nil {
		return fmt.Errorf("schedule timezone: %w", err)
	}
	st, err := openStore(ctx, cfg, "")
	if err != nil {
		return err
	}
	if err := ensureLedger(ctx, e, cfg, st); err != nil { // /admin and /metrics read it before the first harvest
		return err
	}
	// One process holds the DuckDB file: the server reads the same
	// connection pool the nightly transform writes through.
	wh, err := openWarehouse(ctx, e, cfg.Path(cfg.Warehouse.Path), warehouseOptions(cfg), false, st)
	if err != nil {
		return err
	}
	defer wh.Close()
	if err := syncAgreements(ctx, e, wh.DB, st); err != nil { // a rebuilt warehouse gets its registry back
		return err
	}
	runs := &server.RunLog{Path: cfg.Path(cfg.Server.RunLog)}
	p := &nightly.Pipeline{Runs: runs, Log: e.log, Stages: func() []nightly.Stage {
		// Re-read the config each night so a fixed credential is used without a restart.
		if fresh, err := config.Load(cfgPath); err == nil {
			cfg = fresh
		} else {
			e.log.Error("config unreadable; using the one loaded before", "error", err)
		}
		return nightlyStages(e, cfg, st, wh)
	}}
	p.After = &nightly.Stage{Name: "alerts", Run: func(ctx context.Context, at time.Time) (string, error) {
		return nightlyAlerts(ctx, cfg, st, at) // cfg as the night re-read it
	}}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	if cfg.Server.Listen != "" {
		sc, err := serverConfig(e, cfg, cfg.Server.Listen, runs)
		if err != nil {
			return err
		}
		sc.DB = wh.DB
		srv, err := server.New(sc)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Run(ctx); err != nil {
				cancel(fmt.Errorf("server: %w", err))
			}
		}()
		fmt.Fprintf(e.stdout, "serve: portal and SUSHI server on http://%s\n", cfg.Server.Listen)
		e.log.Info("serving", "addr", cfg.Server.Listen)
	}

	next, err := nightly.Next(cfg.Schedule.Cron, loc, time.Now())
	if err != nil {
		cancel(err)
		wg.Wait()
		return err
	}
	fmt.Fprintf(e.stdout, "serve: nightly run on %q in %s; next %s\n", cfg.Schedule.Cron, loc, next.Format(time.RFC3339))
	if !runNow && !holdsUsage(ctx, wh.DB) {
		fmt.Fprintln(e.stdout, "serve: the warehouse holds no usage yet: the nightly run fills it, or restart with --now to run it at once")
	}
	if runNow {
		if err := p.Run(ctx, time.Now().In(loc)); err != nil && ctx.Err() == nil {
			e.log.Error("nightly run failed", "error", err)
		}
	}
	s := &nightly.Schedule{Spec: cfg.Schedule.Cron, Location: loc, Night: p.Run, Log: e.log}
	if err := s.Run(ctx); err != nil && ctx.Err() == nil {
		cancel(err)
	}
	cancel(nil)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	fmt.Fprintln(e.stdout, "serve: stopped")
	return nil
}

// nightlyStages are the night's stages over cfg: harvest, the upload inbox
// (when mappings are configured), the access-log inbox (when configured),
// the warehouse, the report site.
func nightlyStages(e *env, cfg *config.Loaded, st store.Store, wh *transform.Warehouse) []nightly.Stage {
	stages := []nightly.Stage{{Name: "harvest", Run: func(ctx context.Context, at time.Time) (string, error) {
		sum, err := runHarvest(ctx, e, cfg, ingest.PlanOptions{Now: at}, false, "log")
		detail := fmt.Sprintf("%d units, %d fetched", sum.Jobs, sum.Fetched)
		if err != nil {
			return detail, fmt.Errorf("%s; %w", detail, err)
		}
		return detail, nil
	}}}
	if cfg.Server.Mappings != "" {
		stages = append(stages, nightly.Stage{Name: "inbox", Run: func(ctx context.Context, _ time.Time) (string, error) {
			maps, err := upload.LoadMappings(cfg.Path(cfg.Server.Mappings))
			if err != nil {
				return "", err
			}
			res, err := upload.ProcessInbox(ctx, st, &upload.Ingester{Store: st, Log: e.log, Mappings: maps, By: "inbox"})
			return fmt.Sprintf("%d files", len(res)), err
		}})
	}
	if cfg.AccessLogs.Inbox != "" {
		stages = append(stages, nightly.Stage{Name: "access-logs", Run: func(ctx context.Context, _ time.Time) (string, error) {
			run, err := runLogs(ctx, e, io.Discard, cfg, st, logsOptions{inbox: true})
			if run == nil {
				return "", err
			}
			return fmt.Sprintf("%d logs, %d rejected", run.read, run.rejected), err
		}})
	}
	return append(stages, nightly.Stage{Name: "transform", Run: func(ctx context.Context, _ time.Time) (string, error) {
		sum, err := wh.Update(ctx, st)
		return fmt.Sprintf("%d units, %d loaded, %d rows", sum.Units, sum.Loaded, sum.Rows), err
	}}, nightly.Stage{Name: "report", Run: func(ctx context.Context, _ time.Time) (string, error) {
		site, err := newSite(cfg, wh.DB, cfg.Path(cfg.Server.SiteDir), report.Lang(cfg.Server.Lang))
		if err != nil {
			return "", err
		}
		sum, err := site.Build(ctx)
		return fmt.Sprintf("%d pages", sum.Pages), whatNext(err)
	}})
}
