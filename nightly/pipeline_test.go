package nightly

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// runLog records stages as server.RunLog does: kind and outcome, in order.
type runLog struct {
	mu   sync.Mutex
	runs []string
}

func (l *runLog) Record(kind string, fn func() (string, error)) error {
	detail, err := fn()
	outcome := "ok " + detail
	if err != nil {
		outcome = "failed " + err.Error()
	}
	l.mu.Lock()
	l.runs = append(l.runs, kind+": "+outcome)
	l.mu.Unlock()
	return err
}

// TestOneNight drives one night at a given time: every stage runs in order
// with that time and is recorded; the failing harvest does not stop the
// rest; a second night asked for while the first runs is refused.
func TestOneNight(t *testing.T) {
	at := time.Date(2025, 3, 31, 2, 0, 0, 0, time.UTC)
	release := make(chan struct{})
	started := make(chan struct{})
	var got []time.Time
	stage := func(name string, err error) Stage {
		return Stage{Name: name, Run: func(ctx context.Context, now time.Time) (string, error) {
			got = append(got, now)
			if name == "report" {
				close(started)
				<-release
			}
			return name + " done", err
		}}
	}
	runs := &runLog{}
	p := &Pipeline{Runs: runs, Stages: func() []Stage {
		return []Stage{stage("harvest", errors.New("vendor down")), stage("inbox", nil), stage("transform", nil), stage("report", nil)}
	}}
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background(), at) }()
	<-started
	if err := p.Run(context.Background(), at.Add(24*time.Hour)); !errors.Is(err, ErrRunning) {
		t.Errorf("a second night while the first runs: %v, want ErrRunning", err)
	}
	close(release)
	err := <-done
	if err == nil || err.Error() != "harvest: vendor down" {
		t.Errorf("night: %v, want the harvest's failure alone", err)
	}
	want := []string{"harvest: failed vendor down", "inbox: ok inbox done", "transform: ok transform done", "report: ok report done"}
	if !slices.Equal(runs.runs, want) {
		t.Errorf("run log %q, want %q", runs.runs, want)
	}
	for _, g := range got {
		if !g.Equal(at) {
			t.Errorf("a stage ran at %v, want the night's %v", g, at)
		}
	}
}
