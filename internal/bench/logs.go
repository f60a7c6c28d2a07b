package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/accesslog"
	"github.com/bibliotek24/bibstat/ingest/accesslog/accesslogsim"
	"github.com/bibliotek24/bibstat/internal/cli"
)

// benchLogs generates a proxy log of about --lines lines in time order and
// reads it as ingest-logs does: parse, robots, pseudonyms, double clicks,
// sessions and unique counts, with the Counter's window bounding memory by
// the sessions open in it. Generating is not timed. One straight script
// (flags, generate, read, print), longer than most functions: its steps
// share the figures it prints.
func benchLogs(ctx context.Context, e Env, args []string) error {
	fs := cli.NewFlags(e.Stdout, "bench logs", "", "Generates a proxy access log and counts COUNTER usage from it.")
	lines := fs.Int("lines", 10_000_000, "about how many log lines to generate")
	window := fs.Duration("window", 2*time.Hour, "the counter's reorder window")
	dir := fs.String("dir", "", "directory for the generated log (default: a temporary one)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the read to this file")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *lines <= 0 || *window <= 0 {
		return &cli.UsageError{Msg: "bench logs: --lines and --window must be positive"}
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "bibstat-bench-logs-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	path := filepath.Join(*dir, "proxy.log")
	truth, size, err := writeLog(path, *lines)
	if err != nil {
		return fmt.Errorf("bench logs: generate: %w", err)
	}
	cfg, err := accesslog.ParseConfig(strings.NewReader(accesslogsim.ConfigYAML))
	if err != nil {
		return err
	}
	src, err := cfg.Source("proxy")
	if err != nil {
		return err
	}
	robots, err := accesslog.COUNTERRobots()
	if err != nil {
		return err
	}
	keys, err := accesslog.NewKeyring([]byte("bench-only-key-not-secret"))
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	c := accesslog.NewCounter(*window)
	maxSessions, maxClicks, n := 0, 0, 0
	stopProfile, err := startCPUProfile(*cpuprofile)
	if err != nil {
		return err
	}
	defer stopProfile()
	loadBefore := loadAverage()
	start, cpu0 := time.Now(), cpuSeconds()
	st, err := accesslog.NewReader(cfg, src, keys, robots).Read(ctx, path, f, func(ev *accesslog.Event) error {
		if err := c.Add(ev); err != nil {
			return err
		}
		if n++; n%65536 == 0 {
			s, k := c.Open()
			maxSessions, maxClicks = max(maxSessions, s), max(maxClicks, k)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bench logs: %w", err)
	}
	units := c.Finish()
	secs, cpu := time.Since(start).Seconds(), cpuSeconds()-cpu0
	mismatch := 0
	for u, want := range truth.Units {
		if units[u] != want {
			mismatch++
		}
	}
	w := e.Stdout
	fmt.Fprintf(w, "lines=%d\nlog_mb=%.1f\nevents=%d\nrobots=%d\nignored=%d\nbad=%d\n", st.Lines, float64(size)/1e6, st.Events, st.Robots, st.Ignored, st.Bad)
	fmt.Fprintf(w, "units=%d\nunits_wrong=%d\nwindow=%s\nmax_open_sessions=%d\nmax_open_click_keys=%d\n", len(units), mismatch, *window, maxSessions, maxClicks)
	// The machine is shared: CPU time says what the reader costs when
	// wall time mostly measures the others' load.
	fmt.Fprintf(w, "seconds=%.2f\ncpu_seconds=%.2f\nlines_per_cpu_s=%.0f\npeak_rss_mb=%.1f\n", secs, cpu, float64(st.Lines)/cpu, peakRSSMB())
	printLoad(w, loadBefore)
	fmt.Fprintf(w, "lines_per_s=%.0f\n", float64(st.Lines)/secs)
	if mismatch > 0 || st.Lines != truth.Lines {
		return fmt.Errorf("bench logs: %d units and %d of %d lines differ from the generator's truth", mismatch, st.Lines, truth.Lines)
	}
	return nil
}

// writeLog generates a log of about n lines: 60 libraries, their patrons
// in sessions spread over days so that about 2,000 sessions are open an hour.
func writeLog(path string, n int) (accesslogsim.Truth, int64, error) {
	o := accesslogsim.Default()
	o.Sessions = max(1, n/12) // a session averages about 12 lines
	o.Hours = max(24, o.Sessions/2000)
	o.Users = 5000
	o.Libraries = nil
	for i := range 60 {
		o.Libraries = append(o.Libraries, bibstat.LibraryID(fmt.Sprintf("20%05d", 100*i)))
	}
	f, err := os.Create(path)
	if err != nil {
		return accesslogsim.Truth{}, 0, err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	truth, err := accesslogsim.Generate(bw, o)
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	st, serr := os.Stat(path)
	if err == nil {
		err = serr
	}
	if err != nil {
		return truth, 0, err
	}
	return truth, st.Size(), nil
}

// cpuSeconds is the process's user and system CPU time so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
