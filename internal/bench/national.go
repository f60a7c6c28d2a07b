package bench

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest"
	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/ingest/sushi"
	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/internal/demo"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/internal/sushisim"
	"github.com/bibliotek24/bibstat/report"
	"github.com/bibliotek24/bibstat/transform"
)

// benchNational runs the whole pipeline at national scale on one machine:
// simulated vendors with a fault mix → harvest → warehouse → agreements →
// report site, as the demo wires them, plus the parse bench's comparison of
// our reader with DuckDB's on a generated file. Every figure is a key=value
// line; the headline is last.
func benchNational(ctx context.Context, e Env, args []string) error {
	fs := cli.NewFlags(e.Stdout, "bench national", "", "Runs simulator → harvest → warehouse → agreements → report for --libraries ×\n"+
		"--platforms × --months units with a realistic fault mix, and the parse comparison\n"+
		"with DuckDB's reader on a generated TSV. Prints key=value lines, the headline last.")
	var o nationalOptions
	fs.IntVar(&o.libraries, "libraries", 450, "simulated `n` libraries (spread over every county)")
	fs.IntVar(&o.platforms, "platforms", 25, "simulated `n` platforms, one loopback host each")
	fs.IntVar(&o.months, "months", 12, "`n` months per unit series, ending December 2025")
	fs.DurationVar(&o.spacing, "spacing", 20*time.Millisecond, "least `time` between two requests to one host (scaled from the real 3 s)")
	fs.Float64Var(&o.faults, "faults", 0.03, "`share` of (platform, library) pairs given a fault")
	fs.IntVar(&o.parseRows, "parse-rows", 200_000, "data `rows` of the generated TSV for the parse comparison (0 skips it)")
	fs.StringVar(&o.storeKind, "store", "memory", "object store for the archive: memory or local (a directory under --dir; fsync per object)")
	fs.StringVar(&o.dir, "dir", "", "directory for the ledger, warehouse and site (default: a temporary one, removed)")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the warehouse load to this `file`")
	fs.BoolVar(&o.reuse, "reuse", false, "with --dir: load the archive an earlier --store local run harvested there into a new warehouse, without harvesting again;\nwith --store memory the archive is read into memory first, untimed (to profile the load alone; the harvest's figures are left out)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if o.libraries < 1 || o.platforms < 1 || o.months < 1 || o.spacing <= 0 || o.faults < 0 || o.faults > 1 {
		return &cli.UsageError{Msg: "bench national: --libraries, --platforms, --months and --spacing must be positive, --faults in [0, 1]"}
	}
	if o.storeKind != "memory" && o.storeKind != "local" {
		return &cli.UsageError{Msg: "bench national: --store is memory or local"}
	}
	if o.reuse && o.dir == "" {
		return &cli.UsageError{Msg: "bench national: --reuse needs --dir"}
	}
	if o.dir == "" {
		d, err := os.MkdirTemp("", "bibstat-bench-national-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		o.dir = d
	}
	return runNational(ctx, e, o)
}

// nationalOptions are bench national's flags.
type nationalOptions struct {
	libraries, platforms, months, parseRows int
	spacing                                 time.Duration
	faults                                  float64
	storeKind, dir, cpuprofile              string
	reuse                                   bool
}

// archive is what the harvest writes and the warehouse reads.
type archive interface {
	ingest.ObjectStore
	transform.Source
}

// harvestRun is what the national harvest measured.
type harvestRun struct {
	units, violations int
	wall, bound       time.Duration // its time, and the politeness bound's
}

func runNational(ctx context.Context, e Env, o nationalOptions) error {
	w := e.Stdout
	totalStart := time.Now()
	loadBefore := loadAverage()
	// Parse first, before the archive fills the heap.
	parseRatio, err := nationalParse(ctx, w, o.dir, o.parseRows)
	if err != nil {
		return err
	}
	// The world: the report bench's national libraries (every county),
	// platforms named as its synthetic agreements expect.
	libs, err := syntheticLibraries(o.libraries)
	if err != nil {
		return err
	}
	world := nationalWorld(libs, o.platforms, o.months, o.spacing, o.faults)
	st, err := nationalArchive(ctx, o)
	if err != nil {
		return err
	}
	hv, err := nationalHarvestOrReuse(ctx, e, o, &world, st)
	if err != nil {
		return err
	}

	// Warehouse, as the demo updates it: the register from the store, then
	// load with supersession and refresh the marts.
	start := time.Now()
	wh, err := transform.Open(ctx, filepath.Join(o.dir, "warehouse.duckdb"), transform.Options{}, e.Log)
	if err != nil {
		return err
	}
	defer wh.Close()
	stopProfile, err := startCPUProfile(o.cpuprofile)
	if err != nil {
		return err
	}
	load, transformSec, err := nationalTransform(ctx, w, wh, &world, st, start)
	stopProfile()
	if err != nil {
		return err
	}

	n, err := syntheticAgreements(ctx, wh, libs, o.platforms, 30)
	if err != nil {
		return err
	}
	start = time.Now()
	site, err := (&report.Site{DB: wh.DB, Out: filepath.Join(o.dir, "site")}).Build(ctx)
	if err != nil {
		return fmt.Errorf("bench national: report: %w", err)
	}
	reportSec := time.Since(start).Seconds()
	rss := peakRSSMB()
	fmt.Fprintf(w, "agreements=%d\npages=%d\nreport_seconds=%.2f\n", n, site.Pages, reportSec)
	fmt.Fprintf(w, "total_seconds=%.1f\npeak_rss_mb=%.0f\n", time.Since(totalStart).Seconds(), rss)
	printLoad(w, loadBefore)
	harvested := "reused"
	if !o.reuse {
		harvested = fmt.Sprintf("harvested in %.1f s (%.2f× the politeness bound, %d spacing violations)", hv.wall.Seconds(), hv.wall.Seconds()/hv.bound.Seconds(), hv.violations)
	}
	fmt.Fprintf(w, "headline=%d units from %d hosts %s, %d rows loaded at %.0f rows/s, %d pages in %.1f s, parse %.2f× DuckDB, peak RSS %.0f MiB\n",
		hv.units, o.platforms, harvested, load.Rows, float64(load.Rows)/transformSec, site.Pages, reportSec, parseRatio, rss)
	if hv.violations > 0 {
		return fmt.Errorf("bench national: %d requests closer than the spacing", hv.violations)
	}
	return nil
}

// nationalParse times our reader against DuckDB's own, side by side on
// one generated file of rows rows (none when rows is 0), and prints it.
func nationalParse(ctx context.Context, w io.Writer, dir string, rows int) (ratio float64, err error) {
	if rows <= 0 {
		return 0, nil
	}
	ours, duck, n, size, err := parseSideBySide(ctx, dir, rows)
	if err != nil {
		return 0, fmt.Errorf("bench national: parse: %w", err)
	}
	ratio = duck / ours
	fmt.Fprintf(w, "parse_rows=%d\nparse_bytes=%d\nparse_ours_seconds=%.3f\nparse_ours_rows_per_s=%.0f\nparse_ours_mb_per_s=%.1f\n",
		n, size, ours, float64(n)/ours, float64(size)/1e6/ours)
	fmt.Fprintf(w, "parse_duckdb_seconds=%.3f\nparse_duckdb_rows_per_s=%.0f\nparse_vs_duckdb_ratio=%.2f\n", duck, float64(n)/duck, ratio)
	return ratio, nil
}

// nationalArchive is the store the harvest writes: in memory, or a
// directory under dir. With --reuse it holds what an earlier --store local
// run harvested there, read into memory for --store memory.
func nationalArchive(ctx context.Context, o nationalOptions) (archive, error) {
	if o.storeKind == "memory" && !o.reuse {
		return store.NewMemory(), nil
	}
	local, err := store.NewLocal(filepath.Join(o.dir, "archive"))
	if err != nil || o.storeKind == "local" {
		return local, err
	}
	keys, err := local.List(ctx, "")
	if err != nil {
		return nil, err
	}
	mem := store.NewMemory()
	for _, k := range keys {
		rc, err := local.Get(ctx, k)
		if err != nil {
			return nil, err
		}
		err = mem.Put(ctx, k, rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
	}
	return mem, nil
}

// nationalHarvestOrReuse harvests into st, or with --reuse takes the
// archive as an earlier run left it and removes that run's warehouse, so
// that the load starts from nothing as after a harvest.
func nationalHarvestOrReuse(ctx context.Context, e Env, o nationalOptions, world *sushisim.Config, st archive) (harvestRun, error) {
	if !o.reuse {
		return nationalHarvest(ctx, e, o, world, st)
	}
	keys, err := st.List(ctx, bibstat.RawPrefix)
	if err != nil {
		return harvestRun{}, err
	}
	if len(keys) == 0 {
		return harvestRun{}, fmt.Errorf("bench national: --reuse: no archive in %s", o.dir)
	}
	for _, p := range []string{"warehouse.duckdb", "warehouse.duckdb.wal"} {
		if err := os.Remove(filepath.Join(o.dir, p)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return harvestRun{}, err
		}
	}
	fmt.Fprintf(e.Stdout, "harvest=reused\n")
	return harvestRun{units: len(world.Libraries) * len(world.Platforms) * o.months}, nil
}

// nationalHarvest serves world's vendors and harvests them, wired as the
// demo does, into st, and prints what it did and how politely.
func nationalHarvest(ctx context.Context, e Env, o nationalOptions, world *sushisim.Config, st archive) (harvestRun, error) {
	arr, bases, stop, err := serveRecorded(world)
	if err != nil {
		return harvestRun{}, err
	}
	defer stop()
	led, err := ledger.Open(filepath.Join(o.dir, "ledger.jsonl"))
	if err != nil {
		return harvestRun{}, err
	}
	defer led.Close()
	// Sync the ledger in the background: a crash loses only the last
	// moments' states, whose units are fetched again.
	led.SetSyncInterval(250 * time.Millisecond)
	jobs := nationalJobs(world, bases)
	pol := ingest.DefaultPolicy
	// Waits scaled as the spacing is: the real 3 s spacing against 1 min.
	pol.QueuedDelay, pol.ThrottleDelay = 10*o.spacing, 10*o.spacing
	h := &ingest.Harvester{Store: st, Ledger: led, Log: e.Log, Spacing: o.spacing, Policy: pol, Fetcher: benchFetcher()}
	start := time.Now()
	sum, err := h.Run(ctx, jobs)
	hv := harvestRun{units: len(jobs), wall: time.Since(start)}
	if err != nil {
		return hv, fmt.Errorf("bench national: harvest: %w", err)
	}
	wire, handler, at := arr.stats(o.spacing)
	maxReq, minGap := wire.maxReq, wire.minGap
	hv.violations, hv.bound = wire.violations, time.Duration(maxReq)*o.spacing
	w := e.Stdout
	fmt.Fprintf(w, "libraries=%d\nplatforms=%d\nmonths=%d\nunits=%d\nfault_rules=%d\n", o.libraries, o.platforms, o.months, len(jobs), len(world.Faults))
	fmt.Fprintf(w, "requests=%d\nraw_mb=%.1f\n", sum.Requests, float64(sum.Bytes)/1e6)
	states := make([]string, 0, len(sum.States))
	for s, n := range sum.States {
		states = append(states, fmt.Sprintf("state_%s=%d", s, n))
	}
	sort.Strings(states)
	fmt.Fprintln(w, strings.Join(states, "\n"))
	fmt.Fprintf(w, "deferred=%d\n", sum.Deferred)
	fmt.Fprintf(w, "spacing_ms=%.1f\nmin_gap_ms=%.3f\nspacing_violations=%d\n", o.spacing.Seconds()*1000, minGap.Seconds()*1000, hv.violations)
	fmt.Fprintf(w, "gaps_measured_at=%s\nhandler_min_gap_ms=%.3f\nhandler_spacing_violations=%d\n", at, handler.minGap.Seconds()*1000, handler.violations)
	fmt.Fprintf(w, "max_host_requests=%d\nharvest_bound_seconds=%.2f\n", maxReq, hv.bound.Seconds())
	fmt.Fprintf(w, "harvest_wall_seconds=%.2f\nharvest_bound_ratio=%.3f\n", hv.wall.Seconds(), hv.wall.Seconds()/hv.bound.Seconds())
	return hv, nil
}

// nationalTransform puts world's register into st, loads st into wh and
// prints the load and its seconds, timed from start.
func nationalTransform(ctx context.Context, w io.Writer, wh *transform.Warehouse, world *sushisim.Config, st archive, start time.Time) (load transform.LoadSummary, sec float64, err error) {
	if err := st.Put(ctx, bibstat.LibrariesCSVKey, strings.NewReader(string(demo.Register(world)))); err != nil {
		return load, 0, err
	}
	cpu := cpuSeconds()
	if load, err = wh.Update(ctx, st); err != nil {
		return load, 0, fmt.Errorf("bench national: transform: %w", err)
	}
	sec = time.Since(start).Seconds()
	// CPU seconds of the whole process, DuckDB's threads too: on a busy
	// machine the wall says little, the CPU what the load costs.
	cpu = cpuSeconds() - cpu
	var facts int64
	if err := wh.DB.QueryRowContext(ctx, `SELECT count(*) FROM facts`).Scan(&facts); err != nil {
		return load, sec, err
	}
	fmt.Fprintf(w, "transform_units=%d\ntransform_rows=%d\nfact_rows=%d\ntransform_seconds=%.2f\ntransform_rows_per_s=%.0f\nmarts_seconds=%.2f\n",
		load.Loaded, load.Rows, facts, sec, float64(load.Rows)/sec, load.Marts.Seconds())
	fmt.Fprintf(w, "load_seconds=%.2f\ntransform_cpu_seconds=%.2f\n", sec-load.Marts.Seconds(), cpu)
	return load, sec, nil
}

// nationalWorld is the simulated country: libs on platforms over months,
// and a deterministic fault mix on a share of (platform, library) pairs,
// in proportions a consortium sees on a night's harvest.
func nationalWorld(libs []transform.Library, platforms, months int, spacing time.Duration, share float64) sushisim.Config {
	last := bibstat.Month{Year: 2025, Mon: 12}
	first := last.Add(-(months - 1))
	world := sushisim.Config{Seed: 10, First: first, Last: last}
	types := []string{"Database_Full", "Newspaper_or_Newsletter", "Reference_Work", "Audiovisual", "Journal"}
	for i := range platforms {
		world.Platforms = append(world.Platforms, sushisim.Platform{ID: fmt.Sprintf("plattform-%d", i), Name: fmt.Sprintf("Plattform %d", i),
			DataType: types[i%len(types)], Scale: float64(5 + i%7*5)})
	}
	for i, l := range libs {
		world.Libraries = append(world.Libraries, sushisim.Library{ID: l.ID, Name: l.Name, Municipality: l.Municipality,
			Population: 2000 + (i*7919)%60000})
	}
	// Weighted kinds: mostly transient trouble that clears on a retry,
	// some lasting answers (not ready, no usage, broken keys) and bodies
	// that lie.
	mix := []struct {
		f nationalFault
		w int
	}{
		{nationalFault{Kind: sushisim.FaultLatency, Delay: 5 * spacing}, 20},
		{nationalFault{Kind: sushisim.FaultQueued, Times: 1}, 15},
		{nationalFault{Kind: sushisim.FaultNotReady}, 10},
		{nationalFault{Kind: sushisim.FaultNoUsage}, 10},
		{nationalFault{Kind: sushisim.FaultBusy, Times: 1}, 5},
		{nationalFault{Kind: sushisim.FaultServerError}, 5},
		{nationalFault{Kind: sushisim.FaultHTML}, 3},
		{nationalFault{Kind: sushisim.FaultTruncated}, 3},
		{nationalFault{Kind: sushisim.FaultEmpty}, 3},
		{nationalFault{Kind: sushisim.FaultSlowBody, Delay: 5 * spacing}, 5},
		{nationalFault{Kind: sushisim.FaultWrongMonths}, 3},
		{nationalFault{Kind: sushisim.FaultWrongCustomer}, 2},
		{nationalFault{Kind: sushisim.FaultPartial}, 5},
		{nationalFault{Kind: sushisim.FaultBadKey, AllMonths: true}, 3},
		{nationalFault{Kind: sushisim.FaultUnsupported, AllMonths: true}, 2},
	}
	total := 0
	for _, m := range mix {
		total += m.w
	}
	rng := rand.New(rand.NewPCG(10, 10))
	for _, p := range world.Platforms {
		for _, l := range world.Libraries {
			if rng.Float64() >= share {
				continue
			}
			k := rng.IntN(total)
			for _, m := range mix {
				if k -= m.w; k < 0 {
					f := sushisim.Fault{Platform: p.ID, Library: l.ID, Kind: m.f.Kind, Times: m.f.Times, Delay: m.f.Delay}
					if !m.f.AllMonths {
						f.Month = first.Add(rng.IntN(months))
					}
					world.Faults = append(world.Faults, f)
					break
				}
			}
		}
	}
	return world
}

// nationalFault is a fault of the mix; AllMonths applies it to every month of its pair.
type nationalFault struct {
	Kind      sushisim.FaultKind
	Times     int
	Delay     time.Duration
	AllMonths bool
}

// nationalJobs lists every unit, month by month so that each host's queue
// is a night's harvest of the whole country for one month at a time.
func nationalJobs(world *sushisim.Config, bases map[string]string) []ingest.Job {
	// One credential's strings for all its months, as the planner's are.
	var creds []sushi.Credential
	for _, p := range world.Platforms {
		for _, lib := range world.Libraries {
			creds = append(creds, sushi.Credential{ID: string(lib.ID), Platform: p.ID, Library: lib.ID, BaseURL: bases[p.ID], Release: "5.1",
				CustomerID: world.CustomerID(lib.ID), APIKey: world.APIKey(p.ID, lib.ID)})
		}
	}
	months := bibstat.MonthsBetween(world.First, world.Last)
	jobs := make([]ingest.Job, 0, len(months)*len(creds))
	for _, m := range months {
		for _, cred := range creds {
			jobs = append(jobs, ingest.Job{Unit: bibstat.Unit{Platform: cred.Platform, Credential: cred.ID, Report: "pr", Month: m}, Cred: cred})
		}
	}
	return jobs
}

// parseSideBySide generates the parse bench's TR TSV of rows rows under dir
// and loads it into DuckDB with our reader and with DuckDB's, returning
// both times in seconds.
func parseSideBySide(ctx context.Context, dir string, rows int) (ours, duck float64, n, size int64, err error) {
	pdir := filepath.Join(dir, "parse")
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		return 0, 0, 0, 0, err
	}
	defer os.RemoveAll(pdir)
	tsv := filepath.Join(pdir, "tr.tsv")
	if size, err = writeSyntheticTR(tsv, rows); err != nil {
		return 0, 0, 0, 0, err
	}
	// On disk, as the parse bench does, so the loaded tables are not our memory.
	db, err := sql.Open("duckdb", filepath.Join(pdir, "bench.duckdb"))
	if err != nil {
		return 0, 0, 0, 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	r, err := alternate(ctx, db, tsv, filepath.Join(pdir, "usage.parquet"), 1)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	ours, duck = r.ours[0], r.duckdb[0]
	return ours, duck, r.rows, size, nil
}
