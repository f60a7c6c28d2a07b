package main

import (
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
				"  /healthz, /metrics (an admin session, server.metrics_token or server.metrics_listen)\n"+
				"Accounts: 'bibstat users' with the same --dir or --config. Cookies are Secure: use TLS in\n"+
				"front (its address in server.trusted_proxies), or http://localhost.")
			dir := fs.String("dir", "bibstat-demo", "the data `dir`ectory, laid out as the default configuration's: warehouse.duckdb, site/, ledger.jsonl, runs.jsonl, users.json")
			cfgPath := fs.String("config", "", "the configuration `file` whose paths and server section are used instead of --dir")
			addr := fs.String("addr", "127.0.0.1:8080", "listen `address`")
			baseURL := fs.String("base-url", "", "public `URL` shown as the SUSHI endpoint")
			if err := cli.Parse(fs, args); err != nil {
				return err
			}
			if fs.NArg() > 0 {
				return &cli.UsageError{Msg: fmt.Sprintf("portal takes no arguments, got %q", fs.Args())}
			}
			cfg, err := serverConfigFile(*cfgPath, *dir)
			if err != nil {
				return err
			}
			if *baseURL == "" {
				*baseURL = cfg.Server.BaseURL
			}
			wh, err := openWarehouse(ctx, e, cfg.Path(cfg.Warehouse.Path), warehouseOptions(cfg), false, nil)
			if err != nil {
				return err
			}
			defer wh.Close()
			if !holdsUsage(ctx, wh.DB) {
				fmt.Fprintln(e.stdout, "portal: "+(&notLoadedError{}).Error())
			}
			sc, err := serverConfig(e, cfg, *addr, &server.RunLog{Path: cfg.Path(cfg.Server.RunLog)})
			if err != nil {
				return err
			}
			sc.DB, sc.BaseURL = wh.DB, *baseURL
			srv, err := server.New(sc)
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

// serverConfigFile is the configuration "portal" and "users" read, so
// that both find the same users file: the file at cfgPath when given,
// else the default layout in dir.
func serverConfigFile(cfgPath, dir string) (*config.Loaded, error) {
	if cfgPath != "" {
		return config.Load(cfgPath)
	}
	return config.InDir(dir)
}

// serverConfig is the server's configuration from the config file's
// server section (secrets resolved), without the warehouse.
func serverConfig(e *env, cfg *config.Loaded, addr string, runs *server.RunLog) (server.Config, error) {
	users, err := server.OpenUsers(cfg.Path(cfg.Server.Users))
	if err != nil {
		return server.Config{}, err
	}
	proxies, err := cfg.Server.Proxies()
	if err != nil {
		return server.Config{}, err
	}
	token, err := cfg.Server.MetricsToken.Resolve()
	if err != nil {
		return server.Config{}, err
	}
	access, err := accessRequests(cfg)
	if err != nil {
		return server.Config{}, err
	}
	return server.Config{SiteDir: cfg.Path(cfg.Server.SiteDir), Users: users, LedgerPath: cfg.Path(cfg.Ledger.Path),
		RunLog: runs, Addr: addr, BaseURL: cfg.Server.BaseURL, Log: e.log, TrustedProxies: proxies,
		MetricsToken: token, MetricsAddr: cfg.Server.MetricsListen, Access: access, Lang: cfg.Server.Lang,
		Platforms: platformNames(cfg)}, nil
}

// platformNames are the configured platforms' display names, for the explorer.
func platformNames(cfg *config.Loaded) map[string]string {
	names := map[string]string{}
	for _, p := range cfg.Platforms {
		names[p.ID] = p.Name
	}
	return names
}
