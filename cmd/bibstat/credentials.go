package main

import (
	"context"
	"fmt"

	"github.com/bibliotek24/bibstat/ingest"
	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/internal/config"
)

func credentialsCommand() command {
	return command{name: "credentials", summary: "discover member credentials from a platform's /members (credentials discover --platform P)",
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) == 0 || args[0] != "discover" {
				fs := cli.NewFlags(e.stdout, "credentials", "discover --platform P", "Subcommands: discover.")
				if err := cli.Parse(fs, args); err != nil {
					return err
				}
				return &cli.UsageError{Msg: "credentials: want 'credentials discover --platform P'"}
			}
			fs := cli.NewFlags(e.stdout, "credentials discover", "", "Calls the platform's /members (R5) or /r51/members (R5.1) with the consortium's\n"+
				"credential (platforms[].consortium in the config) and prints one credential entry per\n"+
				"member library as YAML, to review and paste under credentials:. Secrets are written as\n"+
				"references, never values.")
			cfgPath := fs.String("config", config.DefaultFile(), "the configuration `file`")
			platform := fs.String("platform", "", "the `platform` id (required)")
			if err := cli.Parse(fs, args[1:]); err != nil {
				return err
			}
			if *platform == "" {
				return &cli.UsageError{Msg: "credentials discover: --platform is required"}
			}
			cfg, err := config.Load(*cfgPath)
			if err != nil {
				return err
			}
			p, ok := cfg.Platform(*platform)
			if !ok {
				return &cli.UsageError{Msg: fmt.Sprintf("credentials discover: no platform %q in %s", *platform, *cfgPath)}
			}
			cred, err := ingest.ConsortiumCredential(p)
			if err != nil {
				return err
			}
			members, err := sushiClient(cfg).Members(ctx, cred)
			if err != nil {
				return fmt.Errorf("discover members: %w", err)
			}
			return ingest.WriteDiscovered(e.stdout, &cfg.Config, p, members)
		}}
}
