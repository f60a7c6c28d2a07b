package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest"
	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/ingest/sushi"
	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/internal/sushisim"
)

// benchHarvest harvests a simulated country: every library on every
// platform for every month, one loopback server per platform, and reports
// how close the harvest came to the politeness bound and whether any host
// ever saw two requests closer than the spacing (measured by the servers).
func benchHarvest(ctx context.Context, e Env, args []string) error {
	fs := cli.NewFlags(e.Stdout, "bench harvest", "", "Harvests --libraries × --platforms × --months units from simulated vendors (one\n"+
		"loopback server per platform) into a memory store and a temporary ledger. Prints\n"+
		"key=value lines ending with harvest_bound_ratio (wall time / the politeness bound, the\n"+
		"largest requests × spacing of any host) and spacing_violations (gaps shorter than the\n"+
		"spacing between two request arrivals at one server).")
	libraries := fs.Int("libraries", 450, "simulated `n` libraries")
	platforms := fs.Int("platforms", 25, "simulated `n` platforms, one host each")
	months := fs.Int("months", 12, "`n` months per unit series, ending December 2025")
	spacing := fs.Duration("spacing", 20*time.Millisecond, "least `time` between two requests to one host")
	workers := fs.Int("workers", 0, "`n` goroutines archiving and parsing (default one per CPU)")
	procs := fs.Int("procs", 4*runtime.NumCPU(), "GOMAXPROCS during the harvest (`n`; 0 leaves it)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *libraries < 1 || *platforms < 1 || *months < 1 || *spacing <= 0 {
		return &cli.UsageError{Msg: "bench harvest: --libraries, --platforms, --months and --spacing must be positive"}
	}

	last := bibstat.Month{Year: 2025, Mon: 12}
	first := last.Add(-(*months - 1))
	world := &sushisim.Config{Seed: 5, First: first, Last: last}
	for i := 0; i < *platforms; i++ {
		world.Platforms = append(world.Platforms, sushisim.Platform{ID: fmt.Sprintf("plattform%02d", i+1), Name: fmt.Sprintf("Plattform %d", i+1),
			DataType: "Database_Full", Scale: float64(5 + i%7*5)})
	}
	for i := 0; i < *libraries; i++ {
		world.Libraries = append(world.Libraries, sushisim.Library{ID: bibstat.LibraryID(fmt.Sprintf("2%06d", 10000+i*11)),
			Name: fmt.Sprintf("Bibliotek %d", i+1), Municipality: "0301", Population: 2000 + (i*7919)%60000})
	}

	// One server per platform, each recording request arrivals.
	arr, bases, stop, err := serveRecorded(world)
	if err != nil {
		return fmt.Errorf("bench harvest: %w", err)
	}
	defer stop()

	jobs := nationalJobs(world, bases)

	dir, err := os.MkdirTemp("", "bibstat-bench-harvest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	led, err := ledger.Open(filepath.Join(dir, "ledger.jsonl"))
	if err != nil {
		return err
	}
	defer led.Close()
	led.SetSyncInterval(250 * time.Millisecond)
	st := store.NewMemory()
	tr := &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute, DisableCompression: true}
	h := &ingest.Harvester{Store: st, Ledger: led, Log: e.Log, Spacing: *spacing, Workers: *workers,
		Fetcher: &sushi.Client{HTTP: &http.Client{Transport: tr, Timeout: time.Minute}, UserAgent: "BibStat bench"}}

	// More Ps than cores: while the parse workers (one per core) are busy,
	// a host worker whose spacing is up, and the HTTP goroutines it needs,
	// still find a P at once and the kernel preempts a parser for them;
	// with one P per core they queue behind the parsers and every request
	// is late by a millisecond or two (measured: ratio 1.33 → 1.09).
	if *procs > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(*procs))
	}
	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	start := time.Now()
	sum, err := h.Run(ctx, jobs)
	wall := time.Since(start)
	if err != nil {
		return fmt.Errorf("bench harvest: %w", err)
	}
	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) * time.Nanosecond

	maxReq, violations, minGap := arr.stats(*spacing)
	bound := time.Duration(maxReq) * *spacing
	keys, _ := st.List(ctx, "")
	w := e.Stdout
	fmt.Fprintf(w, "libraries=%d\nplatforms=%d\nmonths=%d\nunits=%d\n", *libraries, *platforms, *months, len(jobs))
	fmt.Fprintf(w, "requests=%d\n", sum.Requests)
	for _, s := range []bibstat.State{bibstat.StateOK, bibstat.StateZero, bibstat.StateFailed} {
		fmt.Fprintf(w, "state_%s=%d\n", s, sum.States[s])
	}
	fmt.Fprintf(w, "objects=%d\nraw_mb=%.1f\n", len(keys), float64(sum.Bytes)/1e6)
	fmt.Fprintf(w, "cpus=%d\ngomaxprocs=%d\n", runtime.NumCPU(), *procs)
	fmt.Fprintf(w, "spacing_ms=%.1f\nmin_gap_ms=%.3f\n", spacing.Seconds()*1000, minGap.Seconds()*1000)
	fmt.Fprintf(w, "wall_s=%.2f\nbound_s=%.2f\n", wall.Seconds(), bound.Seconds())
	fmt.Fprintf(w, "units_per_s=%.0f\ncpu_s=%.1f\ncpu_ms_per_unit=%.3f\n", float64(sum.Requests)/wall.Seconds(), cpu.Seconds(),
		cpu.Seconds()*1000/float64(max(sum.Requests, 1)))
	fmt.Fprintf(w, "peak_rss_mb=%.0f\n", peakRSSMB())
	// Other processes' load shows in the ratio: the harvest is CPU-bound at this scale.
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			fmt.Fprintf(w, "loadavg_1m=%s\n", f[0])
		}
	}
	fmt.Fprintf(w, "harvest_bound_ratio=%.3f\n", wall.Seconds()/bound.Seconds())
	fmt.Fprintf(w, "spacing_violations=%d\n", violations)
	if sum.States[bibstat.StateOK]+sum.States[bibstat.StateZero] != len(jobs) {
		return fmt.Errorf("bench harvest: %d of %d units ok or zero", sum.States[bibstat.StateOK]+sum.States[bibstat.StateZero], len(jobs))
	}
	return nil
}
