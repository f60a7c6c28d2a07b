package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/bibliotek24/bibstat/alerts"
	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/internal/config"
	"github.com/bibliotek24/bibstat/internal/mail"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/server"
)

func alertsCommand() command {
	return command{name: "alerts", summary: "e-mail what needs a person (broken credentials, missing months, failing platforms, rejected uploads, failed runs)",
		run: func(ctx context.Context, e *env, args []string) error {
			fs := cli.NewFlags(e.stdout, "alerts", "", "Works out what needs a person from the ledger, the run log and the upload inbox, and\n"+
				"sends one digest to alerts.operator and one to each affected library's contact, in its\n"+
				"language, holding only what each was not told before (alerts.state). The nightly run\n"+
				"in 'serve' does this after its stages.")
			cfgPath := fs.String("config", config.DefaultFile(), "the configuration `file`")
			dryRun := fs.Bool("dry-run", false, "print the digests that would be sent; send and record nothing")
			if err := cli.Parse(fs, args); err != nil {
				return err
			}
			if fs.NArg() > 0 {
				return &cli.UsageError{Msg: fmt.Sprintf("alerts takes no arguments, got %q", fs.Args())}
			}
			cfg, err := config.Load(*cfgPath)
			if err != nil {
				return err
			}
			st, err := openStore(ctx, cfg, "")
			if err != nil {
				return err
			}
			if err := ensureLedger(ctx, e, cfg, st); err != nil {
				return err
			}
			ds, err := runAlerts(ctx, cfg, st, time.Now(), *dryRun)
			if cfg.Alerts.Operator == "" {
				fmt.Fprintln(e.stdout, "alerts: alerts.operator is not set, so only libraries with a contact address get digests")
			}
			if *dryRun {
				printDigests(e.stdout, ds)
			} else {
				fmt.Fprintln(e.stdout, "alerts:", digestSummary(ds))
			}
			return err
		}}
}

// runAlerts works out and (unless dryRun) sends the digests of cfg now.
func runAlerts(ctx context.Context, cfg *config.Loaded, st store.Store, now time.Time, dryRun bool) ([]alerts.Digest, error) {
	in, err := alertInputs(ctx, cfg, st, now)
	if err != nil {
		return nil, err
	}
	var sender alerts.Sender
	if !dryRun {
		if err := alerts.Check(&cfg.Config); err != nil {
			return nil, err
		}
		if sender, err = mailer(cfg); err != nil {
			return nil, err
		}
	}
	return alerts.Deliver(ctx, in, cfg.AlertState(), sender, dryRun)
}

// nightlyAlerts is the night's last step: the digests, after the stages.
func nightlyAlerts(ctx context.Context, cfg *config.Loaded, st store.Store, at time.Time) (string, error) {
	if alerts.Check(&cfg.Config) != nil {
		return "no mail configured", nil
	}
	ds, err := runAlerts(ctx, cfg, st, at, false)
	return digestSummary(ds), err
}

// alertInputs reads what the alerts are worked out from.
func alertInputs(ctx context.Context, cfg *config.Loaded, st store.Store, now time.Time) (alerts.Inputs, error) {
	entries, err := ledger.ReadAll(cfg.Path(cfg.Ledger.Path))
	if err != nil {
		return alerts.Inputs{}, err
	}
	runs, err := (&server.RunLog{Path: cfg.Path(cfg.Server.RunLog)}).Last(500)
	if err != nil {
		return alerts.Inputs{}, err
	}
	uploads, err := alerts.RejectedUploads(ctx, st)
	if err != nil {
		return alerts.Inputs{}, err
	}
	in := alerts.Inputs{Config: &cfg.Config, Ledger: entries, Uploads: uploads, Now: now}
	for _, r := range runs {
		in.Runs = append(in.Runs, alerts.Run{Kind: r.Kind, Start: r.Start, End: r.End, Outcome: r.Outcome, Detail: r.Detail})
	}
	if cfg.Access.Enabled() {
		reqs, err := server.ReadRequests(cfg.Path(cfg.Access.Requests))
		if err != nil {
			return alerts.Inputs{}, err
		}
		for _, q := range reqs {
			if q.State == server.ReqPending {
				in.Requests = append(in.Requests, alerts.AccessRequest{ID: q.ID, Name: q.Name, Email: q.Email, Library: q.Library, Created: q.Created})
			}
		}
	}
	return in, nil
}

// accessRequests is the portal's access requests as configured, or nil
// when access.domains is empty.
func accessRequests(cfg *config.Loaded) (*server.Access, error) {
	a := cfg.Access
	if !a.Enabled() {
		return nil, nil
	}
	m, err := mailer(cfg)
	if err != nil {
		return nil, err
	}
	return &server.Access{Domains: a.Domains, LinkTTL: a.LinkTTL.D(), Mailer: m, Requests: cfg.Path(a.Requests),
		Audit: cfg.Path(a.Audit)}, nil
}

// mailer is the config's SMTP server, its password resolved.
func mailer(cfg *config.Loaded) (*mail.SMTP, error) {
	m := cfg.Mail
	pw, err := m.Password.Resolve()
	if err != nil {
		return nil, fmt.Errorf("mail: password: %w", err)
	}
	return &mail.SMTP{Host: m.Host, Port: m.Port, StartTLS: m.StartTLS, User: m.User, Password: pw, From: m.From,
		Timeout: m.Timeout.D()}, nil
}

func digestSummary(ds []alerts.Digest) string {
	if len(ds) == 0 {
		return "nothing new"
	}
	n := 0
	for _, d := range ds {
		n += len(d.Alerts)
	}
	return fmt.Sprintf("%d digests, %d alerts", len(ds), n)
}

// printDigests shows each digest as it would be sent, text part only.
func printDigests(w io.Writer, ds []alerts.Digest) {
	if len(ds) == 0 {
		fmt.Fprintln(w, "alerts: nothing new to send (dry run)")
		return
	}
	for i, d := range ds {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "To: %s (%s, %s)\nSubject: %s\n\n%s", d.To, d.Recipient, d.Lang, d.Message.Subject, d.Message.Text)
	}
	fmt.Fprintf(w, "\nalerts: %s would be sent (dry run: nothing sent or recorded)\n", digestSummary(ds))
}
