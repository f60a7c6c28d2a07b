package bench

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/agreements"
	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/internal/reference"
	"github.com/bibliotek24/bibstat/report"
	"github.com/bibliotek24/bibstat/transform"
)

// benchReport builds the report site for a national-size synthetic
// warehouse: libraries spread over every county, platforms, two years of
// monthly usage with titles, and agreements with library and county
// participants.
func benchReport(ctx context.Context, e Env, args []string) error {
	fs := cli.NewFlags(e.Stdout, "bench report", "", "Builds the report site for a synthetic national warehouse and times it.")
	nLibs := fs.Int("libraries", 450, "how many `n` libraries")
	nPlatforms := fs.Int("platforms", 25, "how many `n` platforms")
	nAgreements := fs.Int("agreements", 30, "how many `n` agreements")
	keep := fs.String("keep", "", "write the warehouse and site into this `dir` and keep them; a warehouse kept there before is built on again, its site removed first (for profiling the build alone)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the two builds to this `file`")
	memprofile := fs.String("memprofile", "", "write a heap profile after the two builds to this `file` (its alloc_space: what they allocated)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	loadBefore := loadAverage()
	dir := *keep
	if dir == "" {
		tmp, err := os.MkdirTemp("", "bibstat-bench-report-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	wh, err := transform.Open(ctx, filepath.Join(dir, "warehouse.duckdb"), transform.Options{}, e.Log)
	if err != nil {
		return err
	}
	defer wh.Close()

	start := time.Now()
	libs, err := syntheticLibraries(*nLibs)
	if err != nil {
		return err
	}
	var facts int64
	if err := wh.DB.QueryRowContext(ctx, `SELECT count(*) FROM facts`).Scan(&facts); err != nil {
		return err
	}
	n := *nAgreements
	if facts > 0 { // a kept warehouse: its site is built anew
		if err := os.RemoveAll(filepath.Join(dir, "site")); err != nil {
			return err
		}
	} else {
		if facts, n, err = benchReportSetup(ctx, wh, libs, *nPlatforms, *nAgreements); err != nil {
			return err
		}
	}
	setup := time.Since(start)

	stop, err := startCPUProfile(*cpuprofile)
	if err != nil {
		return err
	}
	defer stop()
	// Stamped as in real use, with the data's time (the loaded units'),
	// so that the second build finds every file unchanged.
	site := &report.Site{DB: wh.DB, Out: filepath.Join(dir, "site")}
	// The builds' own peak and CPU time, apart from the setup's: the peak
	// is reset (Linux's clear_refs) and the CPU read before and after.
	setupPeak := peakRSSMB()
	resetPeak := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	cpu0 := cpuSeconds()
	start = time.Now()
	sum, err := site.Build(ctx)
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	cpu1 := cpuSeconds()
	start = time.Now()
	again, err := site.Build(ctx)
	if err != nil {
		return err
	}
	rebuild := time.Since(start).Seconds()
	cpu2 := cpuSeconds()
	if *memprofile != "" {
		if err := writeHeapProfile(*memprofile); err != nil {
			return fmt.Errorf("bench report: %w", err)
		}
	}
	buildPeak := -1.0
	if resetPeak {
		buildPeak = peakRSSMB()
	}
	w := e.Stdout
	fmt.Fprintf(w, "libraries=%d\ncounties=15\nagreements=%d\nplatforms=%d\nfact_rows=%d\n", len(libs), n, *nPlatforms, facts)
	fmt.Fprintf(w, "setup_seconds=%.2f\npages=%d\npages_per_s=%.1f\npeak_rss_mb=%.0f\n", setup.Seconds(), sum.Pages, float64(sum.Pages)/secs, max(setupPeak, peakRSSMB()))
	fmt.Fprintf(w, "build_peak_rss_mb=%.0f\nbuild_cpu_seconds=%.2f\nrebuild_cpu_seconds=%.2f\n", buildPeak, cpu1-cpu0, cpu2-cpu1)
	fmt.Fprintf(w, "files_written=%d\nrebuild_seconds=%.2f\nrebuild_files_written=%d\n", sum.Written, rebuild, again.Written)
	printLoad(w, loadBefore)
	fmt.Fprintf(w, "report_seconds=%.2f\n", secs)
	return nil
}

// benchReportSetup fills an empty warehouse and says how many facts and
// agreements it holds.
func benchReportSetup(ctx context.Context, wh *transform.Warehouse, libs []transform.Library, platforms, agreements int) (int64, int, error) {
	if err := wh.PutLibraries(ctx, libs); err != nil {
		return 0, 0, err
	}
	if err := syntheticUsage(ctx, wh, platforms); err != nil {
		return 0, 0, err
	}
	n, err := syntheticAgreements(ctx, wh, libs, platforms, agreements)
	if err != nil {
		return 0, 0, err
	}
	var facts int64
	err = wh.DB.QueryRowContext(ctx, `SELECT count(*) FROM facts`).Scan(&facts)
	return facts, n, err
}

// syntheticLibraries places n libraries round-robin in every municipality, so
// every county has libraries; a tenth are upper-secondary schools.
func syntheticLibraries(n int) ([]transform.Library, error) {
	munis, err := reference.Municipalities()
	if err != nil {
		return nil, err
	}
	numbers := slices.Sorted(maps.Keys(munis))
	libs := make([]transform.Library, n)
	for i := range libs {
		m := munis[numbers[i%len(numbers)]]
		id, typ, name := fmt.Sprintf("2%06d", i+1), "FBI", m.Name+" bibliotek"
		if i%10 == 9 {
			id, typ, name = fmt.Sprintf("3%06d", i+1), "VGS", m.Name+" videregående skole"
		}
		libs[i] = transform.Library{ID: bibstat.LibraryID(id), Name: fmt.Sprintf("%s %d", name, i+1), Municipality: m.Number, Type: typ}
	}
	return libs, nil
}

// syntheticUsage inserts two years of monthly title usage per library and
// platform straight into the facts, and refreshes the marts as a load would.
func syntheticUsage(ctx context.Context, wh *transform.Warehouse, platforms int) error {
	if _, err := wh.DB.ExecContext(ctx, `INSERT INTO facts_loose (unit_key, library_id, release, report_id, platform, title, data_type, metric_type, month, count, institution_id, customer_id)
		 SELECT 'bench/' || l.library_id || '/' || p || '/' || strftime(m, '%Y-%m') || '/', l.library_id, '5.1', 'TR',
		        'plattform-' || p, 'Tittel ' || (hash(l.library_id, p, t) % 500), 'Book', mt, m::DATE,
		        (1 + hash(l.library_id, p, t, m, mt) % 200)::BIGINT, '', ''
		 FROM libraries l, range(?) pr(p), range(3) tr(t),
		      range(DATE '2024-01-01', DATE '2026-01-01', INTERVAL 1 MONTH) r(m),
		      (VALUES ('Total_Item_Requests'), ('Unique_Item_Requests'), ('Unique_Title_Requests')) v(mt)`, platforms); err != nil {
		return fmt.Errorf("bench report: synthetic usage: %w", err)
	}
	// The marts count only usage whose source is a loaded unit: record
	// each synthetic unit as one, harvested by SUSHI, as a load would.
	if _, err := wh.DB.ExecContext(ctx, `INSERT INTO loaded_units (unit_key, raw_key, parsed_key, library_id, platform, report_id, month,
		 state, rows, release, source, harvested_at)
		 SELECT unit_key, unit_key, '', library_id, platform, report_id, month, 'ok', count(*), release, 'sushi', TIMESTAMP '2026-01-05 06:00:00'
		 FROM facts GROUP BY ALL`); err != nil {
		return fmt.Errorf("bench report: synthetic units: %w", err)
	}
	if _, err := wh.DB.ExecContext(ctx, `INSERT OR IGNORE INTO dirty_months SELECT DISTINCT month FROM facts`); err != nil {
		return fmt.Errorf("bench report: synthetic usage: %w", err)
	}
	return wh.Refresh(ctx)
}

// syntheticAgreements writes a registry of n agreements, each on one or two
// platforms with a dozen libraries and one county, and imports it.
func syntheticAgreements(ctx context.Context, wh *transform.Warehouse, libs []transform.Library, platforms, n int) (int, error) {
	models := []string{"{model: population}", "{model: flat}", "{model: usage}", "{model: base_population, base_share: 0.3}"}
	counties := []string{"03", "11", "15", "18", "31", "32", "33", "34", "39", "40", "42", "46", "50", "55", "56"}
	var b strings.Builder
	b.WriteString("agreements:\n")
	known := agreements.Known{Platforms: map[string]bool{}, Libraries: map[bibstat.LibraryID]bool{}, Counties: map[string]bool{}}
	for i := range n {
		p1, p2 := fmt.Sprintf("plattform-%d", i%platforms), fmt.Sprintf("plattform-%d", (i+7)%platforms)
		known.Platforms[p1], known.Platforms[p2] = true, true
		fmt.Fprintf(&b, "  - id: avtale-%02d\n    name: Avtale %d\n    vendor: Leverandør %d\n    platforms: [%s, %s]\n", i+1, i+1, i%7+1, p1, p2)
		fmt.Fprintf(&b, "    data_type: content\n    period: {from: 2025-01, to: 2025-12}\n    price_nok: %d\n", 50000+i*10000)
		fmt.Fprintf(&b, "    vat_included: true\n    vat_rate: 0.25\n    allocation: %s\n    participants:\n", models[i%len(models)])
		county := counties[i%len(counties)]
		known.Counties[county] = true
		fmt.Fprintf(&b, "      - county: %q\n", county)
		for j := range 12 {
			lib := libs[(i*37+j*11)%len(libs)]
			known.Libraries[lib.ID] = true
			fmt.Fprintf(&b, "      - library: %q\n", string(lib.ID))
		}
	}
	list, err := agreements.Parse("bench-agreements.yaml", strings.NewReader(b.String()), known)
	if err != nil {
		return 0, fmt.Errorf("bench report: %w", err)
	}
	if _, err := (&agreements.Warehouse{DB: wh.DB}).Import(ctx, list, "bench", time.Now()); err != nil {
		return 0, err
	}
	return len(list), nil
}
