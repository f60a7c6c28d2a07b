package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest"
)

// Progress shows a harvest's progress: a bar on a terminal, else a line
// every 10 seconds.
type Progress struct {
	mu     sync.Mutex
	w      io.Writer
	bar    bool
	quiet  bool
	start  time.Time
	last   time.Time
	states map[bibstat.State]int
	drawn  bool
}

// NewProgress writes progress to w; mode is bar, log, none, or auto (a bar
// on a terminal, else log lines).
func NewProgress(w io.Writer, mode string) *Progress {
	p := &Progress{w: w, start: time.Now(), states: map[bibstat.State]int{}}
	switch mode {
	case "bar":
		p.bar = true
	case "log":
	case "none":
		p.quiet = true
	default:
		p.bar = isTerminal(w)
	}
	return p
}

// isTerminal reports whether w is a character device (a TTY).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Update counts one unit done; it is the harvester's Progress callback.
func (p *Progress) Update(pr ingest.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.states[pr.State]++
	if p.quiet {
		return
	}
	now := time.Now()
	if p.bar {
		if now.Sub(p.last) < 100*time.Millisecond && pr.Done < pr.Total {
			return
		}
		p.last = now
		const width = 30
		done := min(pr.Done, pr.Total)
		fill := 0
		if pr.Total > 0 {
			fill = width * done / pr.Total
		}
		eta := ""
		if done > 0 && done < pr.Total {
			left := time.Duration(float64(now.Sub(p.start)) / float64(done) * float64(pr.Total-done))
			eta = " eta " + left.Round(time.Second).String()
		}
		fmt.Fprintf(p.w, "\r[%s%s] %d/%d ok=%d problems=%d%s   ", strings.Repeat("#", fill), strings.Repeat(" ", width-fill),
			pr.Done, pr.Total, p.states[bibstat.StateOK]+p.states[bibstat.StateZero], pr.Done-p.states[bibstat.StateOK]-p.states[bibstat.StateZero], eta)
		p.drawn = true
		return
	}
	if now.Sub(p.last) >= 10*time.Second || pr.Done == pr.Total {
		p.last = now
		fmt.Fprintf(p.w, "%s harvest progress: %d/%d requests done, ok=%d, last %s %s\n", now.Format(time.RFC3339),
			pr.Done, pr.Total, p.states[bibstat.StateOK], pr.Unit, pr.State)
	}
}

// Finish ends the bar's line.
func (p *Progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
