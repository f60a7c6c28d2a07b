package nightly

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule runs a nightly harvest by a cron spec in a time zone.
type Schedule struct {
	// Spec is a five-field cron spec, e.g. "0 2 * * *".
	Spec string
	// Location is the zone Spec is read in, e.g. Europe/Oslo.
	Location *time.Location
	// Harvest runs one nightly harvest; now is the trigger time in Location.
	Harvest func(ctx context.Context, now time.Time) error
	Log     *slog.Logger
}

// Run triggers Harvest on schedule until ctx ends, then waits for a
// running harvest to stop. A run still going when the next is due is
// skipped, never doubled. A failed run is logged; the next night retries.
func (s *Schedule) Run(ctx context.Context) error {
	loc := s.Location
	if loc == nil {
		loc = time.Local
	}
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var running sync.Mutex
	var wg sync.WaitGroup
	c := cron.New(cron.WithLocation(loc))
	_, err := c.AddFunc(s.Spec, func() {
		if !running.TryLock() {
			log.Warn("harvest still running; skipping this trigger")
			return
		}
		wg.Add(1)
		defer wg.Done()
		defer running.Unlock()
		now := time.Now().In(loc)
		log.Info("nightly harvest starting", "at", now.Format(time.RFC3339))
		if err := s.Harvest(ctx, now); err != nil && ctx.Err() == nil {
			log.Error("nightly harvest failed", "error", err)
		}
	})
	if err != nil {
		return fmt.Errorf("schedule %q: %w", s.Spec, err)
	}
	c.Start()
	for _, e := range c.Entries() {
		log.Info("next harvest", "at", e.Next.In(loc).Format(time.RFC3339))
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
