package nightly

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// TestAlertAfterStages: the After stage runs last, after a failed stage
// too, is recorded like the others, and its failure is the night's.
func TestAlertAfterStages(t *testing.T) {
	runs := &runLog{}
	var seen []string
	p := &Pipeline{Runs: runs,
		Stages: func() []Stage {
			return []Stage{{Name: "harvest", Run: func(context.Context, time.Time) (string, error) { return "", errors.New("vendor down") }}}
		},
		After: &Stage{Name: "alerts", Run: func(context.Context, time.Time) (string, error) {
			seen = slices.Clone(runs.runs)
			return "", errors.New("smtp down")
		}},
	}
	err := p.Run(context.Background(), time.Now())
	if want := []string{"harvest: failed vendor down"}; !slices.Equal(seen, want) {
		t.Errorf("alerts saw %q, want %q", seen, want)
	}
	if want := []string{"harvest: failed vendor down", "alerts: failed smtp down"}; !slices.Equal(runs.runs, want) {
		t.Errorf("run log %q, want %q", runs.runs, want)
	}
	if err == nil || err.Error() != "harvest: vendor down\nalerts: smtp down" {
		t.Errorf("night: %v", err)
	}
}
