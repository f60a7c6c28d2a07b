package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/schemas"
	"github.com/bibliotek24/bibstat/transform"
)

// The synthetic world of the transform bench: a year of usage for benchLibs
// libraries on benchPlatforms platforms. Usage is skewed as it is in life:
// two platforms with item- and title-level reports carry most rows, and a
// few big libraries most of each platform's.
const (
	benchLibs      = 60
	benchPlatforms = 12
	benchYear      = 2024
)

// platformShare is each platform's share of all rows; the rest share what is left.
var platformShare = []float64{0.55, 0.25, 0.06, 0.04}

// benchTransform generates synthetic parsed objects and sidecars in a local
// store, rebuilds a warehouse from them through the real Load path, then
// restates one month of the biggest platform and loads incrementally.
func benchTransform(ctx context.Context, e Env, args []string) error {
	fs := cli.NewFlags(e.Stdout, "bench transform", "", "Generates a synthetic archive of parsed usage, rebuilds the warehouse from it and\n"+
		"restates one month of one platform incrementally.")
	rows := fs.Int64("rows", 10_000_000, "fact rows to generate")
	dir := fs.String("dir", "", "directory for the archive and warehouse (default: a temporary one)")
	mem := fs.String("memory-limit", "6GB", "DuckDB memory_limit")
	threads := fs.Int("threads", runtime.NumCPU(), "DuckDB threads")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	loadBefore := loadAverage()
	if *rows < benchLibs*benchPlatforms*12 {
		return &cli.UsageError{Msg: fmt.Sprintf("bench transform: --rows must be at least %d", benchLibs*benchPlatforms*12)}
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "bibstat-bench-transform-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	st, err := store.NewLocal(filepath.Join(*dir, "archive"))
	if err != nil {
		return err
	}
	out := e.Stdout
	opts := transform.Options{MemoryLimit: *mem, Threads: *threads, TempDir: filepath.Join(*dir, "duckdb-tmp")}
	harvested := time.Date(benchYear+1, 1, 5, 2, 0, 0, 0, time.UTC)

	if err := putBenchRegister(ctx, st); err != nil {
		return err
	}
	start := time.Now()
	gen, err := generateArchive(ctx, st, *rows, harvested, -1, 0)
	if err != nil {
		return fmt.Errorf("bench transform: generate: %w", err)
	}
	fmt.Fprintf(out, "rows=%d\nunits=%d\ngenerate_seconds=%.3f\n", gen.rows, gen.units, time.Since(start).Seconds())

	path := filepath.Join(*dir, "warehouse.duckdb")
	start, cpu0 := time.Now(), cpuSeconds()
	sum, err := transform.Rebuild(ctx, path, opts, st, e.Log)
	if err != nil {
		return fmt.Errorf("bench transform: rebuild: %w", err)
	}
	rebuild := time.Since(start).Seconds()
	if sum.Rows != gen.rows {
		return fmt.Errorf("bench transform: rebuild loaded %d rows, generated %d", sum.Rows, gen.rows)
	}
	fmt.Fprintf(out, "rebuild_seconds=%.3f\nload_rows_per_s=%.0f\nrebuild_marts_seconds=%.3f\n", rebuild, float64(sum.Rows)/rebuild, sum.Marts.Seconds())
	// CPU seconds of the process (DuckDB's threads too): on a busy machine
	// the wall figures measure the others' load.
	fmt.Fprintf(out, "rebuild_cpu_seconds=%.1f\n", cpuSeconds()-cpu0)

	// The vendor of the biggest platform restates June: a newer harvest of
	// each of its units for that month, with other counts.
	restated, err := generateArchive(ctx, st, *rows, harvested.Add(24*time.Hour), 0, 6)
	if err != nil {
		return fmt.Errorf("bench transform: restate: %w", err)
	}
	cpu0 = cpuSeconds()
	inc, incremental, err := loadIncremental(ctx, e, path, opts, st, gen.rows, restated.units)
	incCPU := cpuSeconds() - cpu0
	if err != nil {
		return err
	}
	var size int64
	if fi, err := os.Stat(path); err == nil {
		size = fi.Size()
	}
	rss := peakRSSMB()
	fmt.Fprintf(out, "incremental_units=%d\nincremental_rows=%d\nincremental_seconds=%.3f\nincremental_marts_seconds=%.3f\nincremental_cpu_seconds=%.1f\n", inc.Loaded, inc.Rows, incremental, inc.Marts.Seconds(), incCPU)
	fmt.Fprintf(out, "warehouse_mb=%.0f\nmemory_limit=%s\nthreads=%d\npeak_rss_mb=%.0f\n", float64(size)/(1<<20), *mem, *threads, rss)
	printLoad(out, loadBefore)
	fmt.Fprintf(out, "headline=%d rows rebuilt in %.1f s (%.0f rows/s), one month of one platform restated in %.1f s, peak RSS %.0f MiB\n",
		gen.rows, rebuild, float64(sum.Rows)/rebuild, incremental, rss)
	return nil
}

// benchMunicipalities are where the synthetic libraries are, some under
// their 2020–2023 code (3005 Drammen, 1507 Ålesund).
var benchMunicipalities = []string{"0301", "4601", "5001", "1103", "3005", "5501", "1507", "3201"}

func benchLib(l int) bibstat.LibraryID { return bibstat.LibraryID(fmt.Sprintf("2%03d%03d", 100+l, l)) }

type generated struct {
	units int
	rows  int64
}

// generateArchive writes one parsed Parquet file and one sidecar per unit,
// as ingest leaves them, with DuckDB writing the Parquet straight from
// range(). onlyPlatform/onlyMonth >= 0 restrict it to one platform's month
// (a restatement, with other counts).
func generateArchive(ctx context.Context, st *store.Local, total int64, at time.Time, onlyPlatform, onlyMonth int) (generated, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return generated{}, err
	}
	defer db.Close()
	// Units are written by one worker per core: each COPY is small and
	// mostly single-threaded.
	workers := runtime.NumCPU()
	db.SetMaxOpenConns(workers)
	jobs := make(chan string)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for q := range jobs {
				if _, err := db.ExecContext(ctx, q); err != nil {
					errs <- err
					for range jobs {
					}
					return
				}
			}
		}()
	}
	g, err := planArchive(ctx, st, total, at, onlyPlatform, onlyMonth, jobs)
	close(jobs)
	wg.Wait()
	close(errs)
	if err != nil {
		return g, err
	}
	return g, <-errs
}

// planArchive writes the sidecars and sends the COPY of each unit's Parquet to jobs.
func planArchive(ctx context.Context, st *store.Local, total int64, at time.Time, onlyPlatform, onlyMonth int, jobs chan<- string) (generated, error) {
	var g generated
	shares := platformSharesAll()
	libWeights := zipf(benchLibs, 0.9)
	for p := range benchPlatforms {
		if onlyPlatform >= 0 && p != onlyPlatform {
			continue
		}
		platform := fmt.Sprintf("plat%02d", p)
		report, release := bibstat.ReportID("pr"), "5.1"
		switch p {
		case 0:
			report = "ir"
		case 1:
			report = "tr"
		case benchPlatforms - 1:
			report, release = "pr1", "4" // a vendor still on R4
		}
		for l := range benchLibs {
			lib := benchLib(l)
			for m := 1; m <= 12; m++ {
				if onlyMonth > 0 && m != onlyMonth {
					continue
				}
				n := int64(math.Max(1, math.Round(float64(total)*shares[p]*libWeights[l]/12)))
				month := bibstat.Month{Year: benchYear, Mon: time.Month(m)}
				u := bibstat.Unit{Platform: platform, Credential: string(lib), Report: report, Month: month}
				key := u.RawKey(at, "json")
				side := bibstat.Sidecar{Key: key, Source: "sushi", Platform: platform, Credential: string(lib), Library: lib,
					Report: report, Month: month.String(), HarvestedAt: at, State: bibstat.StateOK, Release: release, Rows: n,
					ParsedKey: bibstat.ParsedKey(key, schemas.Version), ParserVersion: schemas.Version}
				file := filepath.Join(st.Root(), filepath.FromSlash(side.ParsedKey))
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					return g, err
				}
				jobs <- unitSQL(file, platform, strings.ToUpper(string(report)), release, lib, month, n, at.Day())
				js, err := json.Marshal(side)
				if err != nil {
					return g, err
				}
				// Plain writes, not Put: a synced write per object would make
				// generating the archive slower than loading it.
				raw := filepath.Join(st.Root(), filepath.FromSlash(key))
				if err := os.MkdirAll(filepath.Dir(raw), 0o755); err != nil {
					return g, err
				}
				if err := os.WriteFile(raw, []byte("{}"), 0o644); err != nil {
					return g, err
				}
				if err := os.WriteFile(raw+bibstat.SidecarSuffix, js, 0o644); err != nil {
					return g, err
				}
				g.units++
				g.rows += n
			}
		}
	}
	return g, nil
}

// unitSQL writes n usage rows of one unit as Parquet in the Usage schema.
// Rows alternate Total_ and Unique_ metrics over items; seed varies counts.
func unitSQL(file, platform, report, release string, lib bibstat.LibraryID, month bibstat.Month, n int64, seed int) string {
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	vals := map[string]string{
		schemas.ColRelease:         q(release),
		schemas.ColReportID:        q(report),
		schemas.ColCustomerID:      q("cust-" + string(lib)),
		schemas.ColInstitutionID:   q("ISIL:" + lib.ISIL()),
		schemas.ColInstitutionName: q("Bibliotek " + string(lib)),
		schemas.ColPlatform:        q(platform),
		schemas.ColPublisher:       `'Publisher ' || (i // 2 % 97)`,
		schemas.ColTitle:           `'Title ' || (i // 2)`,
		schemas.ColDOI:             `'10.1234/' || (i // 2)`,
		schemas.ColDataType:        `CASE WHEN i % 7 = 0 THEN 'Book' ELSE 'Article' END`,
		schemas.ColAccessType:      `'Controlled'`,
		schemas.ColAccessMethod:    `'Regular'`,
		schemas.ColMetricType:      `CASE WHEN i % 2 = 0 THEN 'Total_Item_Requests' ELSE 'Unique_Item_Requests' END`,
		schemas.ColSourceKey:       q("bench"),
	}
	cols := make([]string, 0, len(schemas.StringColumns)+3)
	for _, c := range schemas.StringColumns {
		v, ok := vals[c]
		if !ok {
			v = "''"
		}
		cols = append(cols, v+" AS "+c)
	}
	cols = append(cols,
		`(2000 + i % 25)::INTEGER AS yop`,
		fmt.Sprintf(`DATE '%s' AS month`, month.First().Format("2006-01-02")),
		fmt.Sprintf(`(1 + (hash(i + %d) %% 20))::BIGINT AS count`, seed))
	return fmt.Sprintf(`COPY (SELECT %s FROM range(%d) t(i)) TO %s (FORMAT parquet, COMPRESSION zstd)`,
		strings.Join(cols, ", "), n, q(file))
}

// platformSharesAll spreads platformShare over every platform.
func platformSharesAll() []float64 {
	out := make([]float64, benchPlatforms)
	rest := 1.0
	for i, s := range platformShare {
		out[i] = s
		rest -= s
	}
	for i := len(platformShare); i < benchPlatforms; i++ {
		out[i] = rest / float64(benchPlatforms-len(platformShare))
	}
	return out
}

// zipf returns n weights summing to 1, the k-th proportional to 1/(k+1)^s.
func zipf(n int, s float64) []float64 {
	out := make([]float64, n)
	var sum float64
	for k := range n {
		out[k] = 1 / math.Pow(float64(k+1), s)
		sum += out[k]
	}
	for k := range out {
		out[k] /= sum
	}
	return out
}

// putBenchRegister puts the synthetic libraries' register into st.
func putBenchRegister(ctx context.Context, st *store.Local) error {
	var reg strings.Builder
	reg.WriteString("bibnr,name,type,kommnr\n")
	for l := range benchLibs {
		fmt.Fprintf(&reg, "%s,Bibliotek %d,FBI,%s\n", benchLib(l), l, benchMunicipalities[l%len(benchMunicipalities)])
	}
	return st.Put(ctx, bibstat.LibrariesCSVKey, strings.NewReader(reg.String()))
}

// loadIncremental loads what st has beyond the warehouse at path and
// checks it loaded the units restated and kept rows facts; sec is the
// load's time, opening included.
func loadIncremental(ctx context.Context, e Env, path string, opts transform.Options, st *store.Local, rows int64, units int) (inc transform.LoadSummary, sec float64, err error) {
	start := time.Now()
	w, err := transform.Open(ctx, path, opts, e.Log)
	if err != nil {
		return transform.LoadSummary{}, 0, err
	}
	defer w.Close()
	inc, err = w.Update(ctx, st)
	if err != nil {
		return inc, 0, fmt.Errorf("bench transform: incremental: %w", err)
	}
	sec = time.Since(start).Seconds()
	var facts int64
	if err := w.DB.QueryRowContext(ctx, `SELECT count(*) FROM facts`).Scan(&facts); err != nil {
		return inc, sec, err
	}
	if inc.Loaded != units || facts != rows {
		return inc, 0, fmt.Errorf("bench transform: incremental loaded %d units (want %d), facts %d (want %d)", inc.Loaded, units, facts, rows)
	}
	return inc, sec, nil
}
