package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/accesslog"
)

// errLogsRejected says the access-log inbox set logs aside: the run (and
// the night's stage) reports it, so that someone looks.
var errLogsRejected = errors.New("access logs rejected")

// inbox reads every log dropped in dir/<source>/ as that source. A log read
// leaves the inbox (its original is kept like any other, until retention);
// a log that cannot be read as its folder's source, or of which no line
// reads, moves to <source>/rejected/ with a reason beside it, so that it
// is neither lost nor read again each night. A failing store or disk
// leaves the log where it is for the next run.
func (r *logRun) inbox(ctx context.Context, dir string) error {
	sources, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(r.out, "access-log inbox %s: nothing dropped yet\n", dir)
		return nil
	}
	if err != nil {
		return fmt.Errorf("access-log inbox: %w", err)
	}
	for _, src := range sources {
		if !src.IsDir() || strings.HasPrefix(src.Name(), ".") {
			continue
		}
		folder := filepath.Join(dir, src.Name())
		files, err := os.ReadDir(folder)
		if err != nil {
			return fmt.Errorf("access-log inbox: %w", err)
		}
		for _, f := range files {
			name := f.Name()
			if !f.Type().IsRegular() || strings.HasPrefix(name, ".") || strings.HasSuffix(name, bibstat.InboxReasonSuffix) {
				continue
			}
			if err := r.inboxFile(ctx, filepath.Join(folder, name), src.Name()); err != nil {
				return err
			}
		}
	}
	return r.expireRejected(dir)
}

func (r *logRun) inboxFile(ctx context.Context, path, source string) error {
	res, touched, err := r.in.IngestFile(ctx, path, source)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, accesslog.ErrConfig):
		return r.reject(path, fmt.Sprintf("the folder %q names no source of the access-log file (%v)", source, err))
	case err != nil:
		return err
	case res.Stats.Lines > 0 && res.Stats.Events == 0 && res.Stats.Bad == res.Stats.Lines:
		why := fmt.Sprintf("no line reads as source %q: all %d lines are bad", source, res.Stats.Bad)
		if len(res.Stats.BadLines) > 0 {
			why += ", the first at line " + strconv.FormatInt(res.Stats.BadLines[0].Line, 10) + ": " + res.Stats.BadLines[0].Reason
		}
		return r.reject(path, why)
	}
	if err := r.took(path, res, touched); err != nil {
		return err
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("access-log inbox: %w", err)
	}
	return nil
}

// reject moves the log at path to its folder's rejected/ with why beside
// it. A name already there gets a number, so nothing is overwritten.
func (r *logRun) reject(path, why string) error {
	dir := filepath.Join(filepath.Dir(path), bibstat.InboxRejectedDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("access-log inbox: %w", err)
	}
	to := filepath.Join(dir, filepath.Base(path))
	for n := 2; ; n++ {
		if _, err := os.Lstat(to); errors.Is(err, fs.ErrNotExist) {
			break
		}
		to = filepath.Join(dir, fmt.Sprintf("%s.%d", filepath.Base(path), n))
	}
	if err := os.WriteFile(to+bibstat.InboxReasonSuffix, []byte(why+"\n"), 0o600); err != nil {
		return fmt.Errorf("access-log inbox: %w", err)
	}
	if err := os.Rename(path, to); err != nil {
		return fmt.Errorf("access-log inbox: %w", err)
	}
	r.rejected++
	fmt.Fprintf(r.out, "%s: rejected, moved to %s: %s\n", path, to, why)
	return nil
}

// expireRejected deletes rejected logs once their retention has passed
// since they were rejected: they hold real user ids like any original.
func (r *logRun) expireRejected(dir string) error {
	reasons, err := filepath.Glob(filepath.Join(dir, "*", bibstat.InboxRejectedDir, "*"+bibstat.InboxReasonSuffix))
	if err != nil {
		return fmt.Errorf("access-log inbox: %w", err)
	}
	for _, reason := range reasons {
		fi, err := os.Stat(reason)
		if err != nil || time.Since(fi.ModTime()) < r.orig.Retention {
			continue
		}
		log := strings.TrimSuffix(reason, bibstat.InboxReasonSuffix)
		if err := os.Remove(log); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("access-log inbox: %w", err)
		}
		if err := os.Remove(reason); err != nil {
			return fmt.Errorf("access-log inbox: %w", err)
		}
		fmt.Fprintf(r.out, "deleted rejected log %s (older than %s)\n", log, r.orig.Retention)
	}
	return nil
}
