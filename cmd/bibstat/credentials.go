package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest"
	"github.com/bibliotek24/bibstat/ingest/sushi"
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
			return writeDiscovered(e.stdout, &cfg.Config, p, members)
		}}
}

// discovered is a proposed credential entry, in config order.
type discovered struct {
	Platform    string        `yaml:"platform"`
	Library     string        `yaml:"library"`
	CustomerID  string        `yaml:"customer_id"`
	RequestorID config.Secret `yaml:"requestor_id,omitempty"`
	APIKey      config.Secret `yaml:"api_key,omitempty"`
}

func writeDiscovered(w io.Writer, cfg *config.Config, p *config.Platform, members []sushi.Member) error {
	fmt.Fprintf(w, "# %d members of the consortium on %s (%s), from /members.\n", len(members), p.ID, p.Name)
	fmt.Fprintf(w, "# Review, then add under credentials: in the config. The consortium's api_key works for every member.\n")
	have := map[string]bool{}
	for _, c := range cfg.Credentials {
		if c.Platform == p.ID {
			have[c.CustomerID] = true
		}
	}
	var entries []*yaml.Node
	for _, m := range members {
		d := discovered{Platform: p.ID, CustomerID: m.CustomerID, APIKey: p.Consortium.APIKey, RequestorID: p.Consortium.RequestorID}
		var notes []string
		if lib, err := bibstat.ParseLibraryID(m.ISIL()); err == nil {
			d.Library = string(lib)
			if _, ok := cfg.Library(d.Library); !ok {
				notes = append(notes, "library "+d.Library+" is not under libraries: yet")
			}
		} else {
			d.Library = "TODO"
			notes = append(notes, fmt.Sprintf("no Norwegian ISIL for %q (ids: %s): set library by hand", m.Name, strings.Join(m.InstitutionIDs, ", ")))
		}
		if m.RequestorID != "" {
			// A member-specific requestor id is a secret: reference it, never print it.
			d.RequestorID = config.Secret("env:SUSHI_" + strings.ToUpper(p.ID) + "_REQUESTOR_" + d.Library)
			notes = append(notes, "the vendor gave a member-specific requestor_id; store it in "+strings.TrimPrefix(string(d.RequestorID), "env:"))
		}
		if have[m.CustomerID] {
			notes = append(notes, "already configured")
		}
		var n yaml.Node
		if err := n.Encode(d); err != nil {
			return err
		}
		n.HeadComment = m.Name
		if len(notes) > 0 {
			n.HeadComment += "\n" + strings.Join(notes, "\n")
		}
		entries = append(entries, &n)
	}
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Value: "credentials"},
		{Kind: yaml.SequenceNode, Content: entries},
	}}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write yaml: %w", err)
	}
	return enc.Close()
}
