package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// Run is one run of a pipeline stage, as the scheduler records it.
type Run struct {
	Kind    string    `json:"kind"` // harvest, transform, report
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Outcome string    `json:"outcome"`          // ok, failed, canceled
	Detail  string    `json:"detail,omitempty"` // a summary or the error, never a secret
}

// RunLog is the run journal: one JSON line per finished run, beside the
// ledger (e.g. runs.jsonl). Append is safe from many goroutines; readers
// skip lines they cannot parse, such as a torn last line.
type RunLog struct {
	Path string
	mu   sync.Mutex
}

// Append records r.
func (l *RunLog) Append(r Run) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("append run: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(l.Path), 0o755); err != nil {
		return fmt.Errorf("append run: %w", err)
	}
	f, err := os.OpenFile(l.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("append run: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("append run: %w", err)
	}
	return f.Close()
}

// Record runs fn as a run of kind and appends its outcome.
func (l *RunLog) Record(kind string, fn func() (detail string, err error)) error {
	r := Run{Kind: kind, Start: time.Now().UTC()}
	detail, err := fn()
	r.End, r.Detail, r.Outcome = time.Now().UTC(), detail, "ok"
	switch {
	case errors.Is(err, context.Canceled):
		r.Outcome = "canceled"
	case err != nil:
		r.Outcome, r.Detail = "failed", err.Error()
	}
	if aerr := l.Append(r); aerr != nil {
		return errors.Join(err, aerr)
	}
	return err
}

// Last returns up to n runs, newest first. A missing file is no runs.
func (l *RunLog) Last(n int) ([]Run, error) {
	f, err := os.Open(l.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read run log: %w", err)
	}
	defer f.Close()
	var runs []Run
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var r Run
		if json.Unmarshal(sc.Bytes(), &r) == nil {
			runs = append(runs, r)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read run log: %w", err)
	}
	out := make([]Run, 0, min(n, len(runs)))
	for i := len(runs) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, runs[i])
	}
	return out, nil
}

// nightStages bounds how far back LastNight looks for the night's first stage.
const nightStages = 16

// LastNight returns the stages of the last run, oldest first: the newest
// harvest and every stage recorded after it. Without a harvest among the
// last runs it returns those.
func (l *RunLog) LastNight() ([]Run, error) {
	runs, err := l.Last(nightStages)
	if err != nil {
		return nil, err
	}
	for i, r := range runs {
		if r.Kind == "harvest" {
			runs = runs[:i+1]
			break
		}
	}
	slices.Reverse(runs)
	return runs, nil
}
