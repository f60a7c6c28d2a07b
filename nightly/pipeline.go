package nightly

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Stage is one step of the night: its name in the run log, and its work,
// which returns a one-line summary of what it did.
type Stage struct {
	Name string
	Run  func(ctx context.Context, at time.Time) (detail string, err error)
}

// Recorder records one stage's outcome; server.RunLog is the one serve uses.
type Recorder interface {
	Record(kind string, fn func() (detail string, err error)) error
}

// ErrRunning is returned when a night is asked to start while the last one
// is still running: it is skipped, never doubled.
var ErrRunning = errors.New("the last night is still running")

// Pipeline runs the night's stages in order: harvest, the upload inbox,
// the warehouse, the report site. One stage failing does not stop the
// next: a vendor's failure must not keep yesterday's numbers off the site.
type Pipeline struct {
	// Stages gives the night's stages. It is called as each night starts,
	// so that what it reads then (serve re-reads the config) is used.
	Stages func() []Stage
	Runs   Recorder
	Log    *slog.Logger
	// After, when set, runs once the stages have ended, whatever their
	// outcome, and is recorded like them: the alerts, which read what the
	// stages recorded. Its failure is the night's too.
	After *Stage

	running sync.Mutex
}

// Run runs one night triggered at at: every stage in order, each recorded
// in Runs, until ctx ends. It returns the stages' errors joined, or
// ErrRunning if the last night has not ended.
func (p *Pipeline) Run(ctx context.Context, at time.Time) error {
	if !p.running.TryLock() {
		return ErrRunning
	}
	defer p.running.Unlock()
	log := p.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var errs []error
	stages := p.Stages()
	if p.After != nil {
		stages = append(stages, *p.After)
	}
	for _, s := range stages {
		if ctx.Err() != nil {
			break
		}
		log.Info("nightly stage starting", "stage", s.Name, "at", at.Format(time.RFC3339))
		start := time.Now()
		var detail string
		err := p.Runs.Record(s.Name, func() (string, error) {
			var err error
			detail, err = s.Run(ctx, at)
			return detail, err
		})
		took := time.Since(start).Round(time.Millisecond)
		if err != nil {
			log.Error("nightly stage failed", "stage", s.Name, "took", took, "error", err)
			errs = append(errs, fmt.Errorf("%s: %w", s.Name, err))
			continue
		}
		log.Info("nightly stage done", "stage", s.Name, "took", took, "detail", detail)
	}
	return errors.Join(errs...)
}
