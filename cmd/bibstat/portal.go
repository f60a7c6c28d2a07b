package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/server"
	"github.com/bibliotek24/bibstat/transform"
)

// portalCommand runs the HTTP server alone. "bibstat serve" runs it beside
// the nightly harvest when its config names a listen address.
func portalCommand() command {
	return command{name: "portal", summary: "serve the report site per user, the COUNTER SUSHI R5.1 server, /healthz and /metrics",
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
			if *users == "" {
				*users = filepath.Join(*dir, "users.json")
			}
			u, err := server.OpenUsers(*users)
			if err != nil {
				return err
			}
			wh, err := transform.Open(ctx, filepath.Join(*dir, "warehouse.duckdb"), transform.Options{}, e.log)
			if err != nil {
				return err
			}
			defer wh.Close()
			srv, err := server.New(server.Config{DB: wh.DB, SiteDir: filepath.Join(*dir, "site"), Users: u,
				LedgerPath: filepath.Join(*dir, "ledger.jsonl"), RunLog: &server.RunLog{Path: filepath.Join(*dir, "runs.jsonl")},
				Addr: *addr, BaseURL: *baseURL, Log: e.log})
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "portal: listening on http://%s\n", *addr)
			if err := srv.Run(ctx); err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, "portal: stopped")
			return nil
		}}
}
