//go:build duckdb_arrow

package transform

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/duckdb/duckdb-go/v2"

	"github.com/bibliotek24/bibstat/counter"
)

// TestProbeArrowLayouts measures (prints, asserts nothing about time) the
// process CPU DuckDB spends on CREATE TABLE AS from the same parsed rows
// handed over in different Arrow layouts. Run with BIBSTAT_PROBE_ROWS=N.
func TestProbeArrowLayouts(t *testing.T) {
	nrows, _ := strconv.Atoi(os.Getenv("BIBSTAT_PROBE_ROWS"))
	if nrows == 0 {
		t.Skip("BIBSTAT_PROBE_ROWS not set")
	}
	var recs []arrow.RecordBatch
	_, err := counter.Read(context.Background(), bytes.NewReader(probeTSV(nrows)), counter.Options{BatchRows: 2 * 122_880},
		func(rec arrow.RecordBatch) error { recs = append(recs, rec); return nil })
	if err != nil {
		t.Fatal(err)
	}
	layouts := map[string]func(arrow.Array) arrow.Array{
		"utf8":     func(a arrow.Array) arrow.Array { a.Retain(); return a },
		"view":     probeView,
		"dict":     probeDict,
		"constree": probeConstREE,
	}
	conv := map[string][]arrow.RecordBatch{}
	for name, f := range layouts {
		for _, rec := range recs {
			cols := make([]arrow.Array, rec.NumCols())
			fields := make([]arrow.Field, rec.NumCols())
			for i := range cols {
				cols[i] = rec.Column(i)
				if rec.Column(i).DataType().ID() == arrow.STRING {
					cols[i] = f(rec.Column(i))
				} else {
					cols[i].Retain()
				}
				fields[i] = arrow.Field{Name: rec.Schema().Field(i).Name, Type: cols[i].DataType(), Nullable: true}
			}
			// Each batch its own schema: a constant column's layout may differ by batch.
			conv[name] = append(conv[name], array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rec.NumRows()))
		}
	}
	db, err := sql.Open("duckdb", filepath.Join(t.TempDir(), "p.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	order := []string{"utf8", "view", "dict", "constree"}
	if o := os.Getenv("BIBSTAT_PROBE_LAYOUTS"); o != "" {
		order = bytes2strings(o)
	}
	reps, _ := strconv.Atoi(os.Getenv("BIBSTAT_PROBE_REPS"))
	reps = max(reps, 1)
	for rep := 0; rep < reps; rep++ {
		for _, name := range order {
			batches := conv[name]
			conn, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range batches {
				b.Retain()
			}
			rdr := &sliceReader{recs: batches, schema: batches[0].Schema(), refs: 1}
			for _, b := range batches {
				if !b.Schema().Equal(rdr.schema) {
					t.Fatalf("%s: batches of different schemas", name)
				}
			}
			cpu0, t0 := processCPU(), time.Now()
			release := registerRaw(t, conn, rdr)
			_, err = conn.ExecContext(ctx, "CREATE OR REPLACE TABLE probe_t AS SELECT * FROM probe")
			conn.ExecContext(ctx, "DROP VIEW IF EXISTS probe")
			release()
			cpu, wall := processCPU()-cpu0, time.Since(t0)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var n, sum int64
			var lenSum int64
			if err := conn.QueryRowContext(ctx, "SELECT count(*), sum(count), sum(length(title)+length(platform)+length(isbn)) FROM probe_t").Scan(&n, &sum, &lenSum); err != nil {
				t.Fatal(err)
			}
			conn.Close()
			t.Logf("layout=%s rep=%d cpu_s=%.3f wall_s=%.3f rows=%d sum=%d textlen=%d", name, rep, cpu, wall.Seconds(), n, sum, lenSum)
		}
	}
}

// registerRaw registers recs as the view probe, as RegisterRecords does.
func registerRaw(t *testing.T, conn *sql.Conn, recs array.RecordReader) (release func()) {
	t.Helper()
	err := conn.Raw(func(dc any) error {
		a, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		release, err = a.RegisterView(recs, "probe")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	recs.Release()
	return release
}

func bytes2strings(s string) []string {
	var out []string
	for _, f := range bytes.Split([]byte(s), []byte(",")) {
		out = append(out, string(f))
	}
	return out
}

type sliceReader struct {
	recs   []arrow.RecordBatch
	schema *arrow.Schema
	cur    arrow.RecordBatch
	refs   int64
}

func (r *sliceReader) Retain() { r.refs++ }
func (r *sliceReader) Release() {
	r.refs--
	if r.refs == 0 {
		for _, rec := range r.recs {
			rec.Release()
		}
		r.recs = nil
	}
}
func (r *sliceReader) Schema() *arrow.Schema { return r.schema }
func (r *sliceReader) Next() bool {
	if len(r.recs) == 0 {
		return false
	}
	r.cur, r.recs = r.recs[0], r.recs[1:]
	return true
}
func (r *sliceReader) RecordBatch() arrow.RecordBatch { return r.cur }
func (r *sliceReader) Record() arrow.RecordBatch      { return r.cur }
func (r *sliceReader) Err() error                     { return nil }

func processCPU() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func probeView(a arrow.Array) arrow.Array {
	s := a.(*array.String)
	b := array.NewStringViewBuilder(memory.DefaultAllocator)
	defer b.Release()
	for i := 0; i < s.Len(); i++ {
		b.Append(s.Value(i))
	}
	return b.NewArray()
}

func probeDict(a arrow.Array) arrow.Array {
	s := a.(*array.String)
	b := array.NewDictionaryBuilder(memory.DefaultAllocator, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}).(*array.BinaryDictionaryBuilder)
	defer b.Release()
	for i := 0; i < s.Len(); i++ {
		if err := b.AppendString(s.Value(i)); err != nil {
			panic(err)
		}
	}
	return b.NewArray()
}

// probeConstREE is a column of one value as a single run; others as they are.
func probeConstREE(a arrow.Array) arrow.Array {
	s := a.(*array.String)
	for i := 1; i < s.Len(); i++ {
		if s.Value(i) != s.Value(0) {
			a.Retain()
			return a
		}
	}
	ends := array.NewInt32Builder(memory.DefaultAllocator)
	defer ends.Release()
	ends.Append(int32(s.Len()))
	vals := array.NewStringBuilder(memory.DefaultAllocator)
	defer vals.Release()
	vals.Append(s.Value(0))
	e, v := ends.NewArray(), vals.NewArray()
	defer e.Release()
	defer v.Release()
	return array.NewRunEndEncodedArray(e, v, s.Len(), 0)
}

// probeTSV is the parse bench's synthetic TR (internal/bench's writeSyntheticTR).
func probeTSV(rows int) []byte {
	var w bytes.Buffer
	fmt.Fprint(&w, "Report_Name\tTitle Report\nReport_ID\tTR\nRelease\t5.1\nInstitution_Name\tBench Library\n"+
		"Institution_ID\tISIL:NO-0000000\nMetric_Types\tTotal_Item_Investigations; Total_Item_Requests; Unique_Item_Investigations; Unique_Item_Requests\n"+
		"Report_Filters\t\nReport_Attributes\tAttributes_To_Show=YOP|Access_Type|Access_Method\nExceptions\t\n"+
		"Reporting_Period\tBegin_Date=2024-01-01; End_Date=2024-12-31\nCreated\t2025-01-05T00:00:00Z\nCreated_By\tbibstat bench\nRegistry_Record\t\n\n")
	fmt.Fprint(&w, "Title\tPublisher\tPublisher_ID\tPlatform\tDOI\tProprietary_ID\tISBN\tPrint_ISSN\tOnline_ISSN\tURI\tData_Type\tYOP\tAccess_Type\tAccess_Method\tMetric_Type\tReporting_Period_Total")
	months := []string{"Jan-2024", "Feb-2024", "Mar-2024", "Apr-2024", "May-2024", "Jun-2024",
		"Jul-2024", "Aug-2024", "Sep-2024", "Oct-2024", "Nov-2024", "Dec-2024"}
	for _, m := range months {
		w.WriteString("\t" + m)
	}
	w.WriteByte('\n')
	metrics := counter.ItemMetrics
	var counts [12]int
	for i := 0; i < rows; i++ {
		t := i / 4
		total := 0
		for m := range counts {
			counts[m] = 1 + (i*7+m*13)%97
			total += counts[m]
		}
		fmt.Fprintf(&w, "Journal of Synthetic Studies %d\tPublisher %d\tISNI:%016d\tPlatform %d\t10.9999/jss.%d\tP1:J%d\t\t%04d-%04d\t\thttps://example.org/j/%d\tJournal\t%d\tControlled\tRegular\t%s\t%d",
			t, t%500, t%500, t%7, t, t, t%10000, (t/10000)%10000, t, 2000+t%25, metrics[i%4], total)
		for _, c := range counts {
			fmt.Fprintf(&w, "\t%d", c)
		}
		w.WriteByte('\n')
	}
	return w.Bytes()
}
