package nightly

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule runs a night by a cron spec in a time zone.
type Schedule struct {
	// Spec is a five-field cron spec, e.g. "0 2 * * *".
	Spec string
	// Location is the zone Spec is read in, e.g. Europe/Oslo.
	Location *time.Location
	// Night runs one night, e.g. a Pipeline's Run; at is the trigger time
	// in Location. ErrRunning from it means the trigger was skipped.
	Night func(ctx context.Context, at time.Time) error
	// Now is the clock the trigger time is read from; nil is time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// Run triggers Night on schedule until ctx ends, then waits for a running
// night to stop. A failed night is logged; the next night retries.
func (s *Schedule) Run(ctx context.Context) error {
	loc := s.Location
	if loc == nil {
		loc = time.Local
	}
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := s.Now
	if now == nil {
		now = time.Now
	}
	var wg sync.WaitGroup
	c := cron.New(cron.WithLocation(loc))
	_, err := c.AddFunc(s.Spec, func() {
		wg.Add(1)
		defer wg.Done()
		err := s.Night(ctx, now().In(loc))
		switch {
		case errors.Is(err, ErrRunning):
			log.Warn("night still running; skipping this trigger")
		case err != nil && ctx.Err() == nil:
			log.Error("nightly run failed", "error", err)
		}
	})
	if err != nil {
		return fmt.Errorf("schedule %q: %w", s.Spec, err)
	}
	c.Start()
	for _, e := range c.Entries() {
		log.Info("next nightly run", "at", e.Next.In(loc).Format(time.RFC3339))
	}
	<-ctx.Done()
	<-c.Stop().Done()
	wg.Wait()
	return nil
}

// Next is when spec next fires after t in loc.
func Next(spec string, loc *time.Location, t time.Time) (time.Time, error) {
	sch, err := cron.ParseStandard(spec)
	if err != nil {
		return time.Time{}, fmt.Errorf("schedule %q: %w", spec, err)
	}
	return sch.Next(t.In(loc)), nil
}
