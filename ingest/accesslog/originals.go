package accesslog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultRetention is how long an original log is kept: long enough to
// read it again after a mistake in a platform's rules, short enough that
// the card numbers in it do not linger (README, "Personal data").
const DefaultRetention = 30 * 24 * time.Hour

// Originals keeps the original logs, with their real user ids, in a
// directory outside the archive, and deletes each once Retention has
// passed since it was kept. The archive never holds an original.
type Originals struct {
	Dir       string
	Retention time.Duration
	Log       *slog.Logger
	Now       func() time.Time
}

const stampLayout = "20060102T150405Z"

// Keep copies the log at path into Dir (mode 0600), named by the time it
// was kept, so that Expire needs no file times a copy could change.
func (o *Originals) Keep(path, sha string) (string, error) {
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return "", fmt.Errorf("keep original: %w", err)
	}
	name := o.now().Format(stampLayout) + "-" + sha[:min(12, len(sha))] + "-" + filepath.Base(path)
	dst := filepath.Join(o.Dir, name)
	in, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("keep original: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("keep original: %w", err)
	}
	_, err = io.Copy(out, in)
	if serr := out.Sync(); err == nil {
		err = serr
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(dst)
		return "", fmt.Errorf("keep original: %w", err)
	}
	return dst, nil
}

// Expire deletes every kept original older than Retention, logging each
// deletion, and returns the files deleted. A file not named by Keep is left
// alone and logged: it is no original of ours.
func (o *Originals) Expire(ctx context.Context) ([]string, error) {
	ents, err := os.ReadDir(o.Dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("expire originals: %w", err)
	}
	keep := o.Retention
	if keep <= 0 {
		keep = DefaultRetention
	}
	var gone []string
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return gone, err
		}
		stamp, _, _ := strings.Cut(e.Name(), "-")
		at, perr := time.Parse(stampLayout, stamp)
		if e.IsDir() || perr != nil {
			o.log().Warn("not an original access log; left alone", "file", e.Name())
			continue
		}
		if o.now().Sub(at) < keep {
			continue
		}
		p := filepath.Join(o.Dir, e.Name())
		if err := os.Remove(p); err != nil {
			return gone, fmt.Errorf("expire originals: %w", err)
		}
		o.log().Info("original access log deleted after its retention", "file", e.Name(), "kept_since", at, "retention", keep)
		gone = append(gone, p)
	}
	return gone, nil
}

func (o *Originals) now() time.Time    { return nowOr(o.Now) }
func (o *Originals) log() *slog.Logger { return logOr(o.Log) }
