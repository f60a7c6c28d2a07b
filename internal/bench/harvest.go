package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
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
// It is long because it is one run's sequence, set-up to keys, in order.
func benchHarvest(ctx context.Context, e Env, args []string) error {
	fs := cli.NewFlags(e.Stdout, "bench harvest", "", "Harvests --libraries × --platforms × --months units from simulated vendors (one\n"+
		"loopback server per platform) and a temporary ledger. Prints key=value lines ending\n"+
		"with harvest_bound_ratio (wall time / the politeness bound, the largest requests ×\n"+
		"spacing of any host), spacing_violations (gaps shorter than the spacing between two\n"+
		"request arrivals at one server's socket) and the headline. The archive is counted, not\n"+
		"kept (--store count), so that peak_rss_mb is the harvester's (and the simulators' with\n"+
		"--vendors inline); archived_mb is what a memory store would hold on top. The vendors run\n"+
		"in a child process by default (vendors=process): cpu_s is both processes', harvester_cpu_s\n"+
		"and vendors_cpu_s each one's.")
	libraries := fs.Int("libraries", 450, "simulated `n` libraries")
	platforms := fs.Int("platforms", 25, "simulated `n` platforms, one host each")
	months := fs.Int("months", 12, "`n` months per unit series, ending December 2025")
	spacing := fs.Duration("spacing", 20*time.Millisecond, "least `time` between two requests to one host")
	workers := fs.Int("workers", 0, "`n` goroutines archiving and parsing (default one per CPU)")
	procs := fs.Int("procs", 4*runtime.NumCPU(), "GOMAXPROCS during the harvest (`n`; 0 leaves it)")
	storeKind := fs.String("store", "count", "the archive: count (sizes only) or memory (every object kept, as before)")
	memprofile := fs.String("memprofile", "", "write a heap profile at the end of the harvest to this `file`")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the harvest to this `file`")
	vendors := fs.String("vendors", "process", "where the simulated vendors run: process (a child process of this binary, as another\n"+
		"machine's would be scheduled) or inline (in the harvester's own process and scheduler)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *libraries < 1 || *platforms < 1 || *months < 1 || *spacing <= 0 {
		return &cli.UsageError{Msg: "bench harvest: --libraries, --platforms, --months and --spacing must be positive"}
	}
	if *storeKind != "count" && *storeKind != "memory" {
		return &cli.UsageError{Msg: "bench harvest: --store is count or memory"}
	}
	if *vendors != "process" && *vendors != "inline" {
		return &cli.UsageError{Msg: "bench harvest: --vendors is process or inline"}
	}
	if os.Getenv(vendorsEnv) == "serve" {
		return serveVendorsChild(harvestWorld(*libraries, *platforms, *months), os.Stdin, e.Stdout)
	}
	loadBefore := loadAverage()
	world := harvestWorld(*libraries, *platforms, *months)

	// One server per platform, each recording request arrivals.
	vs, err := startVendors(ctx, *vendors, world, *libraries, *platforms, *months)
	if err != nil {
		return fmt.Errorf("bench harvest: %w", err)
	}
	defer vs.stop()
	bases := vs.bases

	jobs := nationalJobs(world, bases)

	st := &countingStore{}
	if *storeKind == "memory" {
		st.keep = store.NewMemory()
	}
	h, closeH, err := benchHarvester(e, st, *spacing, *workers)
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
	m, err := timedRun(ctx, h, jobs, *cpuprofile)
	if err != nil {
		return fmt.Errorf("bench harvest: %w", err)
	}
	sum, cpu := m.sum, m.cpu
	arr, vcpu, vrss, err := vs.finish()
	if err != nil {
		return fmt.Errorf("bench harvest: %w", err)
	}
	if *memprofile != "" {
		if err := writeHeapProfile(*memprofile); err != nil {
			return fmt.Errorf("bench harvest: %w", err)
		}
	}

	w := e.Stdout
	fmt.Fprintf(w, "libraries=%d\nplatforms=%d\nmonths=%d\nunits=%d\n", *libraries, *platforms, *months, len(jobs))
	fmt.Fprintf(w, "requests=%d\n", sum.Requests)
	for _, s := range []bibstat.State{bibstat.StateOK, bibstat.StateZero, bibstat.StateFailed} {
		fmt.Fprintf(w, "state_%s=%d\n", s, sum.States[s])
	}
	objects, archived := st.counts()
	fmt.Fprintf(w, "objects=%d\nraw_mb=%.1f\n", objects, float64(sum.Bytes)/1e6)
	fmt.Fprintf(w, "cpus=%d\ngomaxprocs=%d\n", runtime.NumCPU(), *procs)
	fmt.Fprintf(w, "store=%s\narchived_mb=%.1f\n", *storeKind, float64(archived)/1e6)
	fmt.Fprintf(w, "gc_cycles=%d\ngc_pause_ms=%.1f\n", m.gcCycles, float64(m.gcPause)/1e6)
	// cpu_s stays the whole harvest's, the vendors' included, as it was
	// when they could only run in process.
	fmt.Fprintf(w, "vendors=%s\n", *vendors)
	if *vendors == "process" {
		fmt.Fprintf(w, "harvester_cpu_s=%.1f\nvendors_cpu_s=%.1f\nvendors_peak_rss_mb=%.0f\n", cpu.Seconds(), vcpu.Seconds(), vrss)
	}
	cpu += vcpu
	printSplit(w, arr.split(m.start, m.end, *spacing))
	printPace(w, sum.Pace)
	run := harvestRun{units: len(jobs), wall: m.end.Sub(m.start)}
	run.print(w, arr, *spacing, sum.Requests, cpu, loadBefore)
	if sum.States[bibstat.StateOK]+sum.States[bibstat.StateZero] != len(jobs) {
		return fmt.Errorf("bench harvest: %d of %d units ok or zero", sum.States[bibstat.StateOK]+sum.States[bibstat.StateZero], len(jobs))
	}
	return nil
}

// measured is one timed harvest: its summary, its wall and CPU time, and
// the collector's work meanwhile.
type measured struct {
	sum        ingest.Summary
	start, end time.Time
	cpu        time.Duration
	gcCycles   uint32
	gcPause    uint64 // ns stopped for the collector
}

// timedRun runs h over jobs, profiling the CPU into cpuprofile when set.
func timedRun(ctx context.Context, h *ingest.Harvester, jobs []ingest.Job, cpuprofile string) (measured, error) {
	var m measured
	stop, err := startCPUProfile(cpuprofile)
	if err != nil {
		return m, err
	}
	var gc0, gc1 runtime.MemStats
	runtime.ReadMemStats(&gc0)
	cpu0 := cpuTime()
	m.start = time.Now()
	m.sum, err = h.Run(ctx, jobs)
	m.end = time.Now()
	stop()
	m.cpu = cpuTime() - cpu0
	runtime.ReadMemStats(&gc1)
	m.gcCycles, m.gcPause = gc1.NumGC-gc0.NumGC, gc1.PauseTotalNs-gc0.PauseTotalNs
	return m, err
}

// print writes the pace and the spacing the servers saw, then the
// headline: the keys of bench harvest from spacing_ms on.
func (run *harvestRun) print(w io.Writer, arr *arrivals, spacing time.Duration, requests int, cpu time.Duration, loadBefore string) {
	wire, handler, at := arr.stats(spacing)
	run.violations, run.bound = wire.violations, time.Duration(wire.maxReq)*spacing
	fmt.Fprintf(w, "spacing_ms=%.1f\nmin_gap_ms=%.3f\n", spacing.Seconds()*1000, wire.minGap.Seconds()*1000)
	fmt.Fprintf(w, "gaps_measured_at=%s\nsocket_requests=%d\n", at, wire.requests)
	fmt.Fprintf(w, "handler_min_gap_ms=%.3f\nhandler_spacing_violations=%d\n", handler.minGap.Seconds()*1000, handler.violations)
	fmt.Fprintf(w, "wall_s=%.2f\nbound_s=%.2f\n", run.wall.Seconds(), run.bound.Seconds())
	fmt.Fprintf(w, "units_per_s=%.0f\ncpu_s=%.1f\ncpu_ms_per_unit=%.3f\n", float64(requests)/run.wall.Seconds(), cpu.Seconds(),
		cpu.Seconds()*1000/float64(max(requests, 1)))
	rss := peakRSSMB()
	fmt.Fprintf(w, "peak_rss_mb=%.0f\n", rss)
	// Other processes' load shows in the ratio: the harvest is CPU-bound at this scale.
	if l := loadavg(); l != "" {
		fmt.Fprintf(w, "loadavg_1m=%s\n", l)
	}
	ratio := run.wall.Seconds() / run.bound.Seconds()
	printLoad(w, loadBefore)
	fmt.Fprintf(w, "harvest_bound_ratio=%.3f\n", ratio)
	fmt.Fprintf(w, "spacing_violations=%d\n", run.violations)
	fmt.Fprintf(w, "headline=%d units harvested in %.1f s, %.3f× the politeness bound, %d spacing violations (shortest gap %.3f ms at the %s), peak RSS %.0f MiB, load average %s\n",
		run.units, run.wall.Seconds(), ratio, run.violations, wire.minGap.Seconds()*1000, at, rss, loadAverage())
}

// printSplit writes where the wall time beyond the bound went: the host
// that finished last's start (before its first request, the host's phase
// included) and tail (after its last request: its answer, the pool's
// backlog, the ledger's sync), the sum of its gaps' excess over the
// spacing, and how late every host's requests were (a gap's excess).
func printSplit(w io.Writer, s split) {
	ms := func(d time.Duration) float64 { return d.Seconds() * 1000 }
	fmt.Fprintf(w, "first_request_ms=%.1f\n", ms(s.first))
	fmt.Fprintf(w, "last_host=%s\nlast_host_start_ms=%.1f\nlast_host_excess_s=%.3f\nlast_host_tail_ms=%.1f\n",
		s.host, ms(s.start), s.excess.Seconds(), ms(s.tail))
	printQuantiles(w, "gap_excess", s.late)
}

// printPace writes how late the requests were after their turns at the
// gate: when they reached it, built (negative: early, as planned), when
// their wait on the runtime's timers there ended (woke: about -2 ms when
// on time), and when their write returned.
func printPace(w io.Writer, p ingest.Pace) {
	for _, d := range [][]time.Duration{p.Wrote, p.Reached, p.Woke} {
		slices.Sort(d)
	}
	printQuantiles(w, "late", p.Wrote)
	printQuantiles(w, "reached", p.Reached)
	printQuantiles(w, "woke", p.Woke)
	fmt.Fprintf(w, "reached_after_turn=%d\nwoke_after_turn=%d\n", afterTurn(p.Reached), afterTurn(p.Woke))
}

// afterTurn counts the positive durations of d.
func afterTurn(d []time.Duration) int {
	n := 0
	for _, d := range d {
		if d > 0 {
			n++
		}
	}
	return n
}

// printQuantiles writes sorted d's mean, median, 90th and 99th
// percentiles and maximum in milliseconds as name_mean_ms= and so on.
func printQuantiles(w io.Writer, name string, d []time.Duration) {
	ms := func(d time.Duration) float64 { return d.Seconds() * 1000 }
	fmt.Fprintf(w, "%[1]s_mean_ms=%.3[2]f\n%[1]s_p50_ms=%.3[3]f\n%[1]s_p90_ms=%.3[4]f\n%[1]s_p99_ms=%.3[5]f\n%[1]s_max_ms=%.3[6]f\n", name,
		ms(mean(d)), ms(quantile(d, 0.5)), ms(quantile(d, 0.9)), ms(quantile(d, 0.99)), ms(quantile(d, 1)))
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

// benchHarvester harvests into st and a ledger in a temporary directory;
// closeH closes the ledger and removes the directory.
func benchHarvester(e Env, st ingest.ObjectStore, spacing time.Duration, workers int) (h *ingest.Harvester, closeH func(), err error) {
	dir, err := os.MkdirTemp("", "bibstat-bench-harvest-")
	if err != nil {
		return nil, nil, err
	}
	led, err := ledger.Open(filepath.Join(dir, "ledger.jsonl"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	led.SetSyncInterval(250 * time.Millisecond)
	h = &ingest.Harvester{Store: st, Ledger: led, Log: e.Log, Spacing: spacing, Workers: workers, Fetcher: benchFetcher()}
	return h, func() { led.Close(); os.RemoveAll(dir) }, nil
}

// countingStore counts what the harvester archives, keeping it only in
// keep when set: a memory store holding the country's archive is the
// bench's memory, not the harvester's.
type countingStore struct {
	keep    *store.Memory
	mu      sync.Mutex
	objects int
	bytes   int64
}

func (c *countingStore) Put(ctx context.Context, key string, r io.Reader) error {
	cr := &countingReader{r: r}
	if c.keep != nil {
		if err := c.keep.Put(ctx, key, cr); err != nil {
			return err
		}
	} else {
		if err := bibstat.CheckKey(key); err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, cr); err != nil {
			return fmt.Errorf("put %s: %w", key, err)
		}
	}
	c.add(cr.n)
	return nil
}

func (c *countingStore) add(n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.objects++
	c.bytes += n
}

func (c *countingStore) counts() (objects int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.objects, c.bytes
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

// benchFetcher is the benches' SUSHI client: a few idle connections kept
// per simulated host, bodies uncompressed as the simulator sends them.
func benchFetcher() *sushi.Client {
	tr := sushi.NewTransport() // its connections keep the hosts' gates
	tr.MaxIdleConnsPerHost, tr.IdleConnTimeout, tr.DisableCompression = 4, time.Minute, true
	return &sushi.Client{HTTP: &http.Client{Transport: tr, Timeout: time.Minute}, UserAgent: "BibStat bench"}
}

// writeHeapProfile writes the live heap, after a collection, to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		return err
	}
	return f.Close()
}
