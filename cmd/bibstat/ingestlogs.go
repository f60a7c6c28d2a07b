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
	"github.com/bibliotek24/bibstat/internal/store"
)

func ingestLogsCommand() command {
	return command{name: "ingest-logs", summary: "count COUNTER usage from the consortium's own access logs (proxy, single sign-on)",
		run: func(ctx context.Context, e *env, args []string) error {
			fs := cli.NewFlags(e.stdout, "ingest-logs", "FILE... | --inbox",
				"Reads each access log FILE as --source of --logs (a proxy log in the combined format, or\n"+
					"single sign-on JSON lines), replaces every user id by a keyed pseudonym, drops robots,\n"+
					"and archives only the minimised events (time, pseudonym, library, platform, item, kind)\n"+
					"under raw/accesslog/events/. Each month a log touches is then recounted from all its\n"+
					"archived events with COUNTER's rules (double clicks, sessions, unique items and titles)\n"+
					"into one unit per platform, library and month, of source \"access-log\". The original\n"+
					"is kept in --originals (outside the archive) and deleted after --retention. A log\n"+
					"already ingested is skipped. Bad lines are counted and listed by file and line.\n"+
					"With --inbox, every log dropped in the config's access_logs.inbox/<source>/ is read as\n"+
					"that source and then removed (its original kept as above); a log that cannot be read\n"+
					"moves to <source>/rejected/ with a .reason.txt beside it. The night does the same.")
			o := logsOptions{}
			fs.StringVar(&o.logs, "logs", "", "the access-log `file` (YAML: sources and platforms; default access_logs.config)")
			fs.StringVar(&o.source, "source", "", "the `name` of the source the FILEs are (required without --inbox)")
			fs.StringVar(&o.config, "config", "", "the configuration `file`: its store unless --archive, its access_logs section, the key and originals beside its ledger")
			fs.StringVar(&o.archive, "archive", "", "the object store `dir`ectory (this or --config is required)")
			fs.StringVar(&o.key, "key", "", "the pseudonym key `file`, 0600, created on first use (default access_logs.key, else accesslog.key beside the ledger, or beside --archive)")
			fs.StringVar(&o.originals, "originals", "", "the `dir`ectory keeping original logs until --retention (default access_logs.originals, else accesslog-originals beside the key)")
			fs.DurationVar(&o.retention, "retention", 0, "how long an original log is kept (default access_logs.retention, else 720h)")
			fs.BoolVar(&o.inbox, "inbox", false, "read the logs dropped in access_logs.inbox/<source>/ instead of FILEs (needs --config)")
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
	inbox                                         bool
	files                                         []string
}

func (o *logsOptions) check() error {
	usage := func(msg string) error {
		return &cli.UsageError{Msg: "ingest-logs: " + msg + " (run 'bibstat ingest-logs --help')"}
	}
	switch {
	case o.inbox && (len(o.files) > 0 || o.source != ""):
		return usage("--inbox reads the inbox: give no FILE and no --source")
	case o.inbox && o.config == "":
		return usage("--inbox needs --config (its access_logs.inbox)")
	case !o.inbox && len(o.files) == 0:
		return usage("no FILE given")
	case !o.inbox && o.source == "":
		return usage("--source NAME is required")
	case o.archive == "" && o.config == "":
		return usage("--archive DIR is required, or --config FILE")
	case o.retention < 0:
		return usage("--retention must not be negative (0 takes access_logs.retention, else 720h)")
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
	_, err = runLogs(ctx, e, e.stdout, cfg, st, o)
	return err
}

// runLogs reads o's logs (or the inbox) into st, recounts the months they
// touched and deletes what is past its retention, printing to out.
func runLogs(ctx context.Context, e *env, out io.Writer, cfg *config.Loaded, st store.Store, o logsOptions) (*logRun, error) {
	run, err := newLogRun(e, out, cfg, o)
	if err != nil {
		return nil, err
	}
	run.in.Store = st
	if o.inbox {
		err = run.inbox(ctx, cfg.Path(cfg.AccessLogs.Inbox))
	} else {
		for _, f := range o.files {
			if err = run.file(ctx, f, o.source); err != nil {
				break
			}
		}
	}
	if err != nil {
		return run, err
	}
	if err := run.finish(ctx); err != nil {
		return run, err
	}
	if run.rejected > 0 {
		return run, fmt.Errorf("ingest-logs: %w: %d (each beside its .reason.txt in %s)", errLogsRejected, run.rejected,
			cfg.Path(cfg.AccessLogs.Inbox))
	}
	return run, nil
}

// logRun is one ingest-logs run: the logs read, then the months they
// touched recounted and the expired originals deleted.
type logRun struct {
	out      io.Writer
	in       *accesslog.Ingester
	orig     *accesslog.Originals
	months   map[bibstat.Month]bool
	read     int // logs read now, duplicates included
	rejected int // inbox logs moved to rejected/ now
}

// newLogRun resolves the run's files: flags first, then the config's
// access_logs, then the defaults beside the ledger (or the archive). The
// key and the originals live outside the archive, never in it.
func newLogRun(e *env, out io.Writer, cfg *config.Loaded, o logsOptions) (*logRun, error) {
	al := cfg.AccessLogs
	logsPath := cmp.Or(o.logs, cfg.Path(al.Config))
	if logsPath == "" {
		return nil, &cli.UsageError{Msg: "ingest-logs: --logs FILE is required, or access_logs.config in --config"}
	}
	keyPath := cmp.Or(o.key, cfg.Path(al.Key))
	if keyPath == "" {
		dir := filepath.Dir(cfg.Path(cfg.Ledger.Path))
		if o.archive != "" && o.config == "" {
			abs, err := filepath.Abs(o.archive)
			if err != nil {
				return nil, err
			}
			dir = filepath.Dir(abs)
		}
		keyPath = filepath.Join(dir, "accesslog.key")
	}
	retention := cmp.Or(o.retention, time.Duration(al.Retention), accesslog.DefaultRetention)
	orig := &accesslog.Originals{Dir: cmp.Or(o.originals, cfg.Path(al.Originals), filepath.Join(filepath.Dir(keyPath), "accesslog-originals")),
		Retention: retention, Log: e.log}
	in, err := newLogIngester(e, logsPath, keyPath)
	if err != nil {
		return nil, err
	}
	return &logRun{out: out, in: in, orig: orig, months: map[bibstat.Month]bool{}}, nil
}

// file reads one log as source and keeps its original.
func (r *logRun) file(ctx context.Context, path, source string) error {
	res, touched, err := r.in.IngestFile(ctx, path, source)
	if err != nil {
		return err
	}
	return r.took(path, res, touched)
}

// took notes a log read: its original kept (a duplicate's was kept when
// it was first read), its months to recount.
func (r *logRun) took(path string, res accesslog.FileResult, touched []bibstat.Month) error {
	r.read++
	printLogResult(r.out, res)
	if res.Duplicate {
		return nil
	}
	if _, err := r.orig.Keep(path, res.SHA256); err != nil {
		return err
	}
	for _, m := range touched {
		r.months[m] = true
	}
	return nil
}

// finish recounts every month the run's logs touched and deletes the
// originals past their retention.
func (r *logRun) finish(ctx context.Context) error {
	for _, m := range slices.SortedFunc(maps.Keys(r.months), func(a, b bibstat.Month) int { return cmp.Compare(a.String(), b.String()) }) {
		units, err := r.in.Recount(ctx, m)
		if err != nil {
			return err
		}
		for _, u := range units {
			fmt.Fprintf(r.out, "unit %s %s %s:", u.Unit.Platform, u.Unit.Library, u.Unit.Month)
			for i, name := range accesslog.Metrics {
				if u.Counts[i] != 0 {
					fmt.Fprintf(r.out, " %s=%d", name, u.Counts[i])
				}
			}
			fmt.Fprintln(r.out)
		}
	}
	gone, err := r.orig.Expire(ctx)
	for _, g := range gone {
		fmt.Fprintf(r.out, "deleted original %s (older than %s)\n", g, r.orig.Retention)
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
