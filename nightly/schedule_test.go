package nightly

import (
	"context"
	"testing"
	"time"
)

func TestNextIsTwoInOslo(t *testing.T) {
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	// 23:30 UTC on 30 March 2025 is 01:30 in Oslo (summer time began that night).
	next, err := Next("0 2 * * *", oslo, time.Date(2025, 3, 30, 23, 30, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if next.In(oslo).Hour() != 2 || next.UTC().Hour() != 0 {
		t.Errorf("next %v (UTC %v), want 02:00 Oslo = 00:00 UTC", next, next.UTC())
	}
}

func TestScheduleRunsAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan time.Time, 1)
	night := time.Date(2025, 3, 31, 2, 0, 0, 0, time.UTC)
	s := &Schedule{Spec: "@every 1s", Location: time.UTC, Now: func() time.Time { return night },
		Night: func(ctx context.Context, now time.Time) error {
			select {
			case ran <- now:
			default:
			}
			return nil
		}}
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	select {
	case at := <-ran:
		if !at.Equal(night) {
			t.Errorf("the night ran at %v, want the injected clock's %v", at, night)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the schedule never ran")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not stop")
	}
}
