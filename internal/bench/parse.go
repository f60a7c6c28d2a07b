package bench

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver

	"github.com/bibliotek24/bibstat/counter"
	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/schemas"
	"github.com/bibliotek24/bibstat/transform"
)

// benchParse compares our TSV reader, loading into DuckDB through Parquet,
// with DuckDB's own read_csv plus UNPIVOT of the same file into the same
// long table.
func benchParse(ctx context.Context, e Env, args []string) error {
	fs := cli.NewFlags(e.Stdout, "bench parse", "", "Generates a synthetic R5.1 TR TSV and loads it into DuckDB two ways, in turn\n"+
		"--rounds times each. Prints key=value lines ending with parse_vs_duckdb_ratio, the\n"+
		"median of the rounds' DuckDB time / ours (above 1, ours is faster).")
	rows := fs.Int("rows", 1_000_000, "data rows in the generated TSV (12 months each)")
	dir := fs.String("dir", "", "directory for the generated files (default: a temporary one)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the two loads to this file")
	nRounds := fs.Int("rounds", 5, "`n` loads of each side, alternating (ours, DuckDB's, ours, …); the medians are reported")
	batchRows := fs.Int("batch-rows", benchBatchRows, "rows in each of our reader's batches")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *rows <= 0 || *nRounds <= 0 || *batchRows <= 0 {
		return &cli.UsageError{Msg: "bench parse: --rows, --rounds and --batch-rows must be positive"}
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "bibstat-bench-parse-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	tsv := filepath.Join(*dir, "tr.tsv")
	size, err := writeSyntheticTR(tsv, *rows)
	if err != nil {
		return fmt.Errorf("bench parse: generate: %w", err)
	}
	// On disk, so that the two loaded tables do not count as our memory.
	db, err := sql.Open("duckdb", filepath.Join(*dir, "bench.duckdb"))
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	stopProfile, err := startCPUProfile(*cpuprofile)
	if err != nil {
		return err
	}
	defer stopProfile()
	loadBefore := loadAverage()
	r, err := alternateOn(ctx, db, tsv, filepath.Join(*dir, "usage.parquet"), *nRounds, *batchRows)
	if err != nil {
		return fmt.Errorf("bench parse: %w", err)
	}
	oursSec, duckSec := median(r.ours), median(r.duckdb)

	n := float64(r.rows)
	w := e.Stdout
	fmt.Fprintf(w, "rows=%d\n", r.rows)
	fmt.Fprintf(w, "bytes=%d\n", size)
	fmt.Fprintf(w, "ours_seconds=%.3f\n", oursSec)
	fmt.Fprintf(w, "ours_parse_seconds=%.3f\n", median(r.oursParse))
	fmt.Fprintf(w, "ours_rows_per_s=%.0f\n", n/oursSec)
	fmt.Fprintf(w, "ours_mb_per_s=%.1f\n", float64(size)/1e6/oursSec)
	fmt.Fprintf(w, "duckdb_seconds=%.3f\n", duckSec)
	fmt.Fprintf(w, "duckdb_rows_per_s=%.0f\n", n/duckSec)
	fmt.Fprintf(w, "ours_cpu_seconds=%.3f\n", median(r.oursCPU))
	fmt.Fprintf(w, "duckdb_cpu_seconds=%.3f\n", median(r.duckdbCPU))
	fmt.Fprintf(w, "parse_vs_duckdb_cpu_ratio=%.2f\n", median(ratios(r.duckdbCPU, r.oursCPU)))
	if r.oursParseCPU != nil {
		fmt.Fprintf(w, "ours_parse_cpu_seconds=%.3f\n", median(r.oursParseCPU))
	}
	fmt.Fprintf(w, "arrow_scan=%t\n", transform.ArrowScan)
	fmt.Fprintf(w, "batch_rows=%d\n", *batchRows)
	fmt.Fprintf(w, "peak_rss_mb=%.0f\n", peakRSSMB())
	r.print(w, "")
	printLoad(w, loadBefore)
	// The headline, last: the median of the rounds' ratios.
	fmt.Fprintf(w, "parse_vs_duckdb_ratio=%.2f\n", median(r.ratios()))
	return nil
}

type loaded struct{ rows, sum int64 }

var benchMonths = []string{"Jan-2024", "Feb-2024", "Mar-2024", "Apr-2024", "May-2024", "Jun-2024",
	"Jul-2024", "Aug-2024", "Sep-2024", "Oct-2024", "Nov-2024", "Dec-2024"}

// writeSyntheticTR writes an R5.1 TR TSV: four metric rows per title, a
// non-zero count in every month so that both loaders keep every cell.
func writeSyntheticTR(path string, rows int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprint(w, "Report_Name\tTitle Report\nReport_ID\tTR\nRelease\t5.1\nInstitution_Name\tBench Library\n"+
		"Institution_ID\tISIL:NO-0000000\nMetric_Types\tTotal_Item_Investigations; Total_Item_Requests; Unique_Item_Investigations; Unique_Item_Requests\n"+
		"Report_Filters\t\nReport_Attributes\tAttributes_To_Show=YOP|Access_Type|Access_Method\nExceptions\t\n"+
		"Reporting_Period\tBegin_Date=2024-01-01; End_Date=2024-12-31\nCreated\t2025-01-05T00:00:00Z\nCreated_By\tbibstat bench\nRegistry_Record\t\n\n")
	fmt.Fprint(w, "Title\tPublisher\tPublisher_ID\tPlatform\tDOI\tProprietary_ID\tISBN\tPrint_ISSN\tOnline_ISSN\tURI\tData_Type\tYOP\tAccess_Type\tAccess_Method\tMetric_Type\tReporting_Period_Total\t")
	fmt.Fprintln(w, strings.Join(benchMonths, "\t"))
	metrics := counter.ItemMetrics
	var counts [12]int
	for i := 0; i < rows; i++ {
		t := i / 4
		total := 0
		for m := range counts {
			counts[m] = 1 + (i*7+m*13)%97
			total += counts[m]
		}
		fmt.Fprintf(w, "Journal of Synthetic Studies %d\tPublisher %d\tISNI:%016d\tPlatform %d\t10.9999/jss.%d\tP1:J%d\t\t%04d-%04d\t\thttps://example.org/j/%d\tJournal\t%d\tControlled\tRegular\t%s\t%d",
			t, t%500, t%500, t%7, t, t, t%10000, (t/10000)%10000, t, 2000+t%25, metrics[i%4], total)
		for _, c := range counts {
			fmt.Fprintf(w, "\t%d", c)
		}
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), f.Close()
}

// benchBatchRows is two of DuckDB's row groups (122,880 rows each): DuckDB's
// ordered CREATE TABLE AS merges (and compresses again) every input batch
// smaller than its own row group, which made the 64k-row default cost
// DuckDB half as much again through Parquet.
const benchBatchRows = 2 * 122_880

// loadOurs reads the TSV with counter.Read on one goroutine while DuckDB
// takes its batches as they come (transform.RegisterRecords: an Arrow
// stream, or a Parquet file beside pq in a build without the duckdb_arrow
// tag). It returns, besides what was loaded, the seconds the parse took,
// which overlap with the load, and the parse's own CPU seconds.
func loadOurs(ctx context.Context, db *sql.DB, tsv, pq string, batchRows int) (loaded, parseTimes, error) {
	t0 := time.Now()
	in, err := os.Open(tsv)
	if err != nil {
		return loaded{}, parseTimes{}, err
	}
	defer in.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return loaded{}, parseTimes{}, err
	}
	defer conn.Close()
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream := schemas.NewStream(schemas.Usage, 2)
	parsed := make(chan parseTimes, 1)
	go func() {
		// On its own thread, whose CPU is then the Go parse's alone
		// (garbage collection's background work aside): what of our
		// side's CPU is ours and not DuckDB's.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		cpu, cpuOK := threadCPUSeconds()
		_, err := counter.Read(pctx, in, counter.Options{Name: tsv, BatchRows: batchRows}, func(rec arrow.RecordBatch) error {
			return stream.Send(pctx, rec)
		})
		stream.CloseSend(err)
		p := parseTimes{seconds: time.Since(t0).Seconds(), cpu: -1}
		if end, ok := threadCPUSeconds(); ok && cpuOK {
			p.cpu = end - cpu
		}
		parsed <- p
	}()
	drop, err := transform.RegisterRecords(ctx, conn, filepath.Dir(pq), "parsed_tsv", stream)
	if err != nil {
		return loaded{}, parseTimes{}, err
	}
	_, err = conn.ExecContext(ctx, "CREATE OR REPLACE TABLE usage_ours AS SELECT * FROM parsed_tsv")
	drop()
	cancel() // a parse the load gave up on stops
	p := <-parsed
	if err != nil {
		return loaded{}, parseTimes{}, err
	}
	l, err := count(ctx, conn, "usage_ours")
	return l, p, err
}

// parseTimes are one parse's wall and CPU seconds; cpu is -1 where the
// system cannot tell a thread's CPU.
type parseTimes struct{ seconds, cpu float64 }

// threadCPUSeconds is the calling thread's CPU seconds (Linux's
// RUSAGE_THREAD); false elsewhere.
func threadCPUSeconds() (float64, bool) {
	const rusageThread = 1
	if runtime.GOOS != "linux" {
		return 0, false
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds(), true
}

// duckExprs are the usage columns DuckDB's side of the parse bench does
// not read from a TSV column as it is: the generated file's constants.
var duckExprs = map[string]string{
	schemas.ColRelease: "'5.1'", schemas.ColReportID: "'TR'", schemas.ColInstitutionName: "'Bench Library'",
	schemas.ColInstitutionID: "'ISIL:NO-0000000'", schemas.ColMetricType: "Metric_Type", schemas.ColSourceKey: "''",
}

// duckTSVColumns are the usage columns read from the TSV column named,
// empty where the cell is.
var duckTSVColumns = map[string]string{
	schemas.ColTitle: "Title", schemas.ColPublisher: "Publisher", schemas.ColPlatform: "Platform", schemas.ColDOI: "DOI",
	schemas.ColURI: "URI", schemas.ColPublisherID: "Publisher_ID", schemas.ColProprietaryID: "Proprietary_ID",
	schemas.ColISBN: "ISBN", schemas.ColPrintISSN: "Print_ISSN", schemas.ColOnlineISSN: "Online_ISSN",
	schemas.ColDataType: "Data_Type", schemas.ColAccessType: "Access_Type", schemas.ColAccessMethod: "Access_Method",
}

// loadDuck lets DuckDB parse the same TSV and unpivot the month columns
// into the same long table (zero cells dropped, as our reader does).
func loadDuck(ctx context.Context, db *sql.DB, tsv string) (loaded, error) {
	var cols, sel []string
	for _, c := range schemas.StringColumns {
		cols = append(cols, c)
		v := "''"
		if x, ok := duckExprs[c]; ok {
			v = x
		} else if col, ok := duckTSVColumns[c]; ok {
			v = fmt.Sprintf(`coalesce("%s", '')`, col)
		}
		sel = append(sel, v+" AS "+c)
	}
	q := fmt.Sprintf(`CREATE OR REPLACE TABLE usage_duck AS
SELECT %s, CAST(YOP AS INTEGER) AS yop, CAST(strptime(month_name, '%%b-%%Y') AS DATE) AS month, CAST(cnt AS BIGINT) AS count
FROM (UNPIVOT (SELECT * FROM read_csv('%s', delim='\t', header=true, skip=14, quote='', all_varchar=false))
      ON COLUMNS('^[A-Z][a-z][a-z]-[0-9]{4}$') INTO NAME month_name VALUE cnt)
WHERE cnt <> 0`, strings.Join(sel, ", "), tsv)
	if _, err := db.ExecContext(ctx, q); err != nil {
		return loaded{}, err
	}
	return count(ctx, db, "usage_duck")
}

func count(ctx context.Context, db interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, table string) (loaded, error) {
	var l loaded
	err := db.QueryRowContext(ctx, "SELECT count(*), coalesce(sum(count), 0) FROM "+table).Scan(&l.rows, &l.sum)
	return l, err
}
