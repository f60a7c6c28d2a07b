package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/accesslog"
	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/internal/config"
)

func ingestLogsCommand() command {
	return command{name: "ingest-logs", summary: "count COUNTER usage from the consortium's own access logs (proxy, single sign-on)",
		run: func(ctx context.Context, e *env, args []string) error {
			fs := cli.NewFlags(e.stdout, "ingest-logs", "FILE...",
				"Reads each access log FILE as --source of --logs (a proxy log in the combined format, or\n"+
					"single sign-on JSON lines), replaces every user id by a keyed pseudonym, drops robots,\n"+
					"and archives only the minimised events (time, pseudonym, library, platform, item, kind)\n"+
					"under raw/accesslog/events/. Each month a log touches is then recounted from all its\n"+
					"archived events with COUNTER's rules (double clicks, sessions, unique items and titles)\n"+
					"into one unit per platform, library and month, of source \"access-log\". The original\n"+
					"is kept in --originals (outside the archive) and deleted after --retention. A log\n"+
					"already ingested is skipped. Bad lines are counted and listed by file and line.")
			o := logsOptions{}
			fs.StringVar(&o.logs, "logs", "", "the access-log `file` (YAML: sources and platforms; required)")
			fs.StringVar(&o.source, "source", "", "the `name` of the source the FILEs are (required)")
			fs.StringVar(&o.config, "config", "", "the configuration `file`: its store unless --archive, the key and originals beside its ledger")
			fs.StringVar(&o.archive, "archive", "", "the object store `dir`ectory (this or --config is required)")
			fs.StringVar(&o.key, "key", "", "the pseudonym key `file`, 0600, created on first use (default accesslog.key beside the ledger, or beside --archive)")
			fs.StringVar(&o.originals, "originals", "", "the `dir`ectory keeping original logs until --retention (default accesslog-originals beside the key)")
			fs.DurationVar(&o.retention, "retention", accesslog.DefaultRetention, "how long an original log is kept")
			files, err := parseInterleaved(fs, args)
			if err != nil {
				return err
			}
			o.files = files
			if err := o.check(); err != nil {
				return err
			}
			return runIngestLogs(ctx, e, o)
		}}
}

type logsOptions struct {
	logs, source, config, archive, key, originals string
	retention                                     time.Duration
	files                                         []string
}

func (o *logsOptions) check() error {
	usage := func(msg string) error {
		return &cli.UsageError{Msg: "ingest-logs: " + msg + " (run 'bibstat ingest-logs --help')"}
	}
	switch {
	case len(o.files) == 0:
		return usage("no FILE given")
	case o.logs == "" || o.source == "":
		return usage("--logs FILE and --source NAME are required")
	case o.archive == "" && o.config == "":
		return usage("--archive DIR is required, or --config FILE")
	case o.retention <= 0:
		return usage("--retention must be positive")
	}
	return nil
}

func runIngestLogs(ctx context.Context, e *env, o logsOptions) error {
	cfg, err := config.Load(o.config)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, o.archive)
	if err != nil {
		return err
	}
	// The key and the originals live outside the archive: beside the
	// ledger, or beside the archive directory, never in it.
	keyPath := o.key
	if keyPath == "" {
		dir := filepath.Dir(cfg.Path(cfg.Ledger.Path))
		if o.archive != "" && o.config == "" {
			abs, err := filepath.Abs(o.archive)
			if err != nil {
				return err
			}
			dir = filepath.Dir(abs)
		}
		keyPath = filepath.Join(dir, "accesslog.key")
	}
	orig := &accesslog.Originals{Dir: cmp.Or(o.originals, filepath.Join(filepath.Dir(keyPath), "accesslog-originals")),
		Retention: o.retention, Log: e.log}
	in, err := newLogIngester(e, o.logs, keyPath)
	if err != nil {
		return err
	}
	in.Store = st
	months := map[bibstat.Month]bool{}
	for _, f := range o.files {
		res, touched, err := in.IngestFile(ctx, f, o.source)
		if err != nil {
			return err
		}
		printLogResult(e.stdout, res)
		if res.Duplicate {
			continue
		}
		if _, err := orig.Keep(f, res.SHA256); err != nil {
			return err
		}
		for _, m := range touched {
			months[m] = true
		}
	}
	for _, m := range slices.SortedFunc(maps.Keys(months), func(a, b bibstat.Month) int { return cmp.Compare(a.String(), b.String()) }) {
		units, err := in.Recount(ctx, m)
		if err != nil {
			return err
		}
		for _, u := range units {
			fmt.Fprintf(e.stdout, "unit %s %s %s:", u.Unit.Platform, u.Unit.Library, u.Unit.Month)
			for i, name := range accesslog.Metrics {
				if u.Counts[i] != 0 {
					fmt.Fprintf(e.stdout, " %s=%d", name, u.Counts[i])
				}
			}
			fmt.Fprintln(e.stdout)
		}
	}
	gone, err := orig.Expire(ctx)
	for _, g := range gone {
		fmt.Fprintf(e.stdout, "deleted original %s (older than %s)\n", g, o.retention)
	}
	return err
}

func newLogIngester(e *env, logsPath, keyPath string) (*accesslog.Ingester, error) {
	f, err := os.Open(logsPath)
	if err != nil {
		return nil, fmt.Errorf("ingest-logs: %w", err)
	}
	defer f.Close()
	lc, err := accesslog.ParseConfig(f)
	if err != nil {
		return nil, fmt.Errorf("ingest-logs: %s: %w", logsPath, err)
	}
	key, err := accesslog.LoadKey(keyPath)
	if err != nil {
		return nil, err
	}
	keys, err := accesslog.NewKeyring(key)
	if err != nil {
		return nil, err
	}
	robots, err := accesslog.COUNTERRobots()
	if err != nil {
		return nil, err
	}
	return &accesslog.Ingester{Config: lc, Keys: keys, Robots: robots, Log: e.log}, nil
}

// maxBadPrinted bounds the bad lines listed per file; all are counted.
const maxBadPrinted = 20

func printLogResult(w io.Writer, r accesslog.FileResult) {
	if r.Duplicate {
		fmt.Fprintf(w, "%s: already ingested (sha256 %s), skipped\n", r.Name, r.SHA256[:12])
		return
	}
	s := r.Stats
	fmt.Fprintf(w, "%s: lines=%d events=%d robots=%d ignored=%d bad=%d\n", r.Name, s.Lines, s.Events, s.Robots, s.Ignored, s.Bad)
	for i, b := range s.BadLines {
		if i == maxBadPrinted {
			fmt.Fprintf(w, "  … and %d more bad lines\n", s.Bad-maxBadPrinted)
			break
		}
		fmt.Fprintf(w, "  bad line %s\n", b)
	}
}
