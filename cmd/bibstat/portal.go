package main

import (
	"cmp"
	"context"
	"fmt"

	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/internal/config"
	"github.com/bibliotek24/bibstat/server"
)

// portalCommand runs the HTTP server alone. "bibstat serve" runs it beside
// the nightly harvest when its config names a listen address.
func portalCommand() command {
	return command{name: "portal", unattended: true, summary: "serve the report site per user, the COUNTER SUSHI R5.1 server, /healthz and /metrics",
		run: func(ctx context.Context, e *env, args []string) error {
			fs := cli.NewFlags(e.stdout, "portal", "", "Serves until stopped (Ctrl-C or SIGTERM end it gracefully).\n"+
				"  /            each user's own index; the site's pages and downloads by role\n"+
				"  /admin       run log and completeness (admin only)\n"+
				"  /r51/...     COUNTER_SUSHI R5.1 (customer_id = ISIL, requestor_id = user, api_key = token)\n"+
				"  /healthz, /metrics\n"+
				"Accounts: 'bibstat users'. Cookies are Secure: use TLS in front, or http://localhost.")
			dir := fs.String("dir", "bibstat-demo", "the data `dir`ectory: warehouse.duckdb, site/, ledger.jsonl, runs.jsonl, users.json")
			addr := fs.String("addr", "127.0.0.1:8080", "listen `address`")
			baseURL := fs.String("base-url", "", "public `URL` shown as the SUSHI endpoint")
			users := fs.String("users", "", "the users `file` (default DIR/users.json)")
			if err := cli.Parse(fs, args); err != nil {
				return err
			}
			if fs.NArg() > 0 {
				return &cli.UsageError{Msg: fmt.Sprintf("portal takes no arguments, got %q", fs.Args())}
			}
			// The data directory is laid out as the default configuration's.
			cfg, err := config.InDir(*dir)
			if err != nil {
				return err
			}
			u, err := server.OpenUsers(cmp.Or(*users, cfg.Path(cfg.Server.Users)))
			if err != nil {
				return err
			}
			wh, err := openWarehouse(ctx, e, cfg.Path(cfg.Warehouse.Path), warehouseOptions(cfg), false, nil)
			if err != nil {
				return err
			}
			defer wh.Close()
			srv, err := server.New(server.Config{DB: wh.DB, SiteDir: cfg.Path(cfg.Server.SiteDir), Users: u,
				LedgerPath: cfg.Path(cfg.Ledger.Path), RunLog: &server.RunLog{Path: cfg.Path(cfg.Server.RunLog)},
				Addr: *addr, BaseURL: *baseURL, Log: e.log})
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "portal: listening on http://%s\n", *addr)
			e.log.Info("serving", "addr", *addr)
			if err := srv.Run(ctx); err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, "portal: stopped")
			return nil
		}}
}
