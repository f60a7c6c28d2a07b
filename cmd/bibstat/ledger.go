package main

import (
	"context"
	"fmt"

	"github.com/bibliotek24/bibstat/ingest"
	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/ingest/sushi"
	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/internal/config"
	"github.com/bibliotek24/bibstat/internal/store"
)

const ledgerHelp = "Rebuilds the harvest ledger (the config's ledger.path) from the sidecars in the object\n" +
	"store, local or S3, and renames the new file into place. Every harvest that got a response\n" +
	"is in the store; attempts that got none (connection refused, timeout) are not, and those\n" +
	"units are asked again. Next attempts are recomputed by the retry policy, credential\n" +
	"fingerprints from the credentials as configured now. Do not run it during a harvest.\n" +
	"harvest, status and serve rebuild a missing ledger on their own.\n\n" +
	"  bibstat ledger rebuild [--config FILE]"

func ledgerCommand() command {
	return command{name: "ledger", summary: "rebuild the harvest ledger from the sidecars in the object store",
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) == 0 || args[0] != "rebuild" {
				fs := cli.NewFlags(e.stdout, "ledger rebuild", "", ledgerHelp)
				if err := cli.Parse(fs, args); err != nil {
					return err // --help
				}
				return &cli.UsageError{Msg: "ledger: give the subcommand rebuild"}
			}
			fs := cli.NewFlags(e.stdout, "ledger rebuild", "", ledgerHelp)
			cfgPath := fs.String("config", config.DefaultFile(), "the configuration `file`; its store, ledger and credentials are used")
			if err := cli.Parse(fs, args[1:]); err != nil {
				return err
			}
			if fs.NArg() > 0 {
				return &cli.UsageError{Msg: fmt.Sprintf("ledger rebuild takes no arguments, got %q", fs.Args())}
			}
			cfg, err := config.Load(*cfgPath)
			if err != nil {
				return err
			}
			st, err := openStore(ctx, cfg, "")
			if err != nil {
				return err
			}
			path := cfg.Path(cfg.Ledger.Path)
			n, err := ledger.Rebuild(ctx, st, path, rebuildOptions(cfg))
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "ledger %s rebuilt: %d units from the sidecars in the store\n", path, n)
			return nil
		}}
}

// rebuildOptions is what a rebuild takes from the config: each credential's
// fingerprint as the harvest computes it, and the harvest's retry policy.
// A credential whose secret cannot be resolved gets no fingerprint, so a
// broken one is asked once more, as a changed one would be.
func rebuildOptions(cfg *config.Loaded) ledger.RebuildOptions {
	creds := map[string]sushi.Credential{}
	for _, c := range cfg.Credentials {
		p, ok := cfg.Platform(c.Platform)
		if !ok {
			continue
		}
		if sc, err := ingest.Credential(p, c); err == nil {
			creds[sc.Platform+"/"+sc.ID] = sc
		}
	}
	return ledger.RebuildOptions{
		Fingerprint: func(l *ledger.Ledger, platform, credential string) (string, bool) {
			c, ok := creds[platform+"/"+credential]
			if !ok {
				return "", false
			}
			return ingest.Fingerprint(l, c), true
		},
		NextAttempt: ingest.DefaultPolicy.NextAttempt, // the policy runHarvest's Harvester uses
	}
}

// ensureLedger rebuilds the config's ledger from st when the file is
// missing but st holds harvests: a lost ledger is not "nothing harvested",
// which would refetch the whole archive and show every unit as missing.
func ensureLedger(ctx context.Context, e *env, cfg *config.Loaded, st store.Store) error {
	path := cfg.Path(cfg.Ledger.Path)
	rebuilt, n, err := ledger.RebuildIfMissing(ctx, st, path, rebuildOptions(cfg))
	if err != nil {
		return err
	}
	if rebuilt {
		e.log.Warn("ledger missing; rebuilt from the sidecars in the store", "path", path, "units", n)
	}
	return nil
}
