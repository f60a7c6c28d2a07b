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

	world := harvestWorld(*libraries, *platforms, *months)

	// One server per platform, each recording request arrivals.
	arr, bases, stop, err := serveRecorded(world)
	if err != nil {
		return fmt.Errorf("bench harvest: %w", err)
	}
	defer stop()

	jobs := nationalJobs(world, bases)

	h, st, closeH, err := benchHarvester(e, *spacing, *workers)
	if err != nil {
		return err
	}
	defer closeH()

	// More Ps than cores: while the parse workers (one per core) are busy,
	// a host worker whose spacing is up, and the HTTP goroutines it needs,
	// still find a P at once and the kernel preempts a parser for them;
	// with one P per core they queue behind the parsers and every request
	// is late by a millisecond or two (measured: ratio 1.33 → 1.09).
	if *procs > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(*procs))
	}
	cpu0 := cpuTime()
	start := time.Now()
	sum, err := h.Run(ctx, jobs)
	wall := time.Since(start)
	if err != nil {
		return fmt.Errorf("bench harvest: %w", err)
	}
	cpu := cpuTime() - cpu0

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
	if l := loadavg(); l != "" {
		fmt.Fprintf(w, "loadavg_1m=%s\n", l)
	}
	fmt.Fprintf(w, "harvest_bound_ratio=%.3f\n", wall.Seconds()/bound.Seconds())
	fmt.Fprintf(w, "spacing_violations=%d\n", violations)
	if sum.States[bibstat.StateOK]+sum.States[bibstat.StateZero] != len(jobs) {
		return fmt.Errorf("bench harvest: %d of %d units ok or zero", sum.States[bibstat.StateOK]+sum.States[bibstat.StateZero], len(jobs))
	}
	return nil
}

// harvestWorld is the bench's country: libraries on platforms over the
// months up to December 2025.
func harvestWorld(libraries, platforms, months int) *sushisim.Config {
	last := bibstat.Month{Year: 2025, Mon: 12}
	first := last.Add(-(months - 1))
	world := &sushisim.Config{Seed: 5, First: first, Last: last}
	for i := 0; i < platforms; i++ {
		world.Platforms = append(world.Platforms, sushisim.Platform{ID: fmt.Sprintf("plattform%02d", i+1), Name: fmt.Sprintf("Plattform %d", i+1),
			DataType: "Database_Full", Scale: float64(5 + i%7*5)})
	}
	for i := 0; i < libraries; i++ {
		world.Libraries = append(world.Libraries, sushisim.Library{ID: bibstat.LibraryID(fmt.Sprintf("2%06d", 10000+i*11)),
			Name: fmt.Sprintf("Bibliotek %d", i+1), Municipality: "0301", Population: 2000 + (i*7919)%60000})
	}
	return world
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadavg is the system's one-minute load average, "" where unknown.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return ""
}

// benchHarvester harvests into a memory store and a ledger in a temporary
// directory; closeH closes the ledger and removes the directory.
func benchHarvester(e Env, spacing time.Duration, workers int) (h *ingest.Harvester, st *store.Memory, closeH func(), err error) {
	dir, err := os.MkdirTemp("", "bibstat-bench-harvest-")
	if err != nil {
		return nil, nil, nil, err
	}
	led, err := ledger.Open(filepath.Join(dir, "ledger.jsonl"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, nil, err
	}
	led.SetSyncInterval(250 * time.Millisecond)
	st = store.NewMemory()
	h = &ingest.Harvester{Store: st, Ledger: led, Log: e.Log, Spacing: spacing, Workers: workers, Fetcher: benchFetcher()}
	return h, st, func() { led.Close(); os.RemoveAll(dir) }, nil
}

// benchFetcher is the benches' SUSHI client: a few idle connections kept
// per simulated host, bodies uncompressed as the simulator sends them.
func benchFetcher() *sushi.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute, DisableCompression: true}
	return &sushi.Client{HTTP: &http.Client{Transport: tr, Timeout: time.Minute}, UserAgent: "BibStat bench"}
}
