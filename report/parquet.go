package report

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// usageParquetSchema is the Parquet download's: the CSV for machines'
// columns, typed.
var usageParquetSchema = arrow.NewSchema([]arrow.Field{
	{Name: "Library_ID", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "Library_Name", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "Month", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "Platform", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "Release", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "Metric_Type", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "Count", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "Pooled", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "Total", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
}, nil)

// parquet writes the rows (the other downloads' rows, read once for the
// whole site) as the Parquet download, sorted by library, month, platform,
// release and metric. Written here rather than by DuckDB's COPY, which
// took a query of the marts per page.
func (sh sheet) parquet() ([]byte, error) {
	var buf bytes.Buffer
	err := sh.writeParquet(&buf)
	return buf.Bytes(), err
}

// parquetOrder is rows sorted by library, month, platform, release and
// metric. The rows come per library ordered by platform, release, metric
// and month (the prefetch's order): each library's rows are put in month
// order keeping that order within a month, which is the whole sort, and a
// check sorts in full any other order.
func parquetOrder(rows []libraryUsage) []libraryUsage {
	full := func(a, b libraryUsage) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Name, b.Name), a.Month.Compare(b.Month),
			cmp.Compare(a.Platform, b.Platform), cmp.Compare(a.Release, b.Release), cmp.Compare(a.Metric, b.Metric))
	}
	var runs [][]libraryUsage // each library's rows, as they come
	for i := 0; i < len(rows); {
		j := i + 1
		for j < len(rows) && rows[j].ID == rows[i].ID && rows[j].Name == rows[i].Name {
			j++
		}
		runs = append(runs, rows[i:j])
		i = j
	}
	slices.SortStableFunc(runs, func(a, b []libraryUsage) int {
		return cmp.Or(cmp.Compare(a[0].ID, b[0].ID), cmp.Compare(a[0].Name, b[0].Name))
	})
	out := make([]libraryUsage, 0, len(rows))
	for _, run := range runs {
		out = appendByMonth(out, run)
	}
	if !slices.IsSortedFunc(out, full) {
		slices.SortFunc(out, full)
	}
	return out
}

// appendByMonth appends run to out in month order, keeping the order of
// the rows within a month: a counting sort by month, since a sort that
// keeps order moves every row many times.
func appendByMonth(out, run []libraryUsage) []libraryUsage {
	key := func(r libraryUsage) int { return r.Month.Year()*12 + int(r.Month.Month()) - 1 }
	lo, hi := math.MaxInt, math.MinInt
	for _, r := range run {
		lo, hi = min(lo, key(r)), max(hi, key(r))
	}
	if len(run) == 0 || hi-lo > 12*1000 { // no rows, or centuries apart: sorted the slow way
		start := len(out)
		out = append(out, run...)
		slices.SortStableFunc(out[start:], func(a, b libraryUsage) int { return a.Month.Compare(b.Month) })
		return out
	}
	at := make([]int, hi-lo+2) // where each month's rows start
	for _, r := range run {
		at[key(r)-lo+1]++
	}
	for i := 1; i < len(at); i++ {
		at[i] += at[i-1]
	}
	start := len(out)
	out = append(out, run...)
	for _, r := range run {
		k := key(r) - lo
		out[start+at[k]] = r
		at[k]++
	}
	return out
}

// parquetColumns are rows, in their order, as a record of the download's schema.
func parquetColumns(rows []libraryUsage) arrow.RecordBatch {
	bld := array.NewRecordBuilder(memory.DefaultAllocator, usageParquetSchema)
	defer bld.Release()
	str := func(i int) *array.StringBuilder { return bld.Field(i).(*array.StringBuilder) }
	// Every column sized once: grown row by row, its buffers were copied
	// over and over for the national file's 800,000 rows.
	bld.Reserve(len(rows))
	var text [6]int
	for _, r := range rows {
		text[0] += len(r.ID)
		text[1] += len(r.Name)
		text[3] += len(r.Platform)
		text[4] += len(r.Release)
		text[5] += len(r.Metric)
	}
	for _, i := range []int{0, 1, 3, 4, 5} {
		str(i).ReserveData(text[i])
	}
	for _, r := range rows {
		str(0).Append(r.ID)
		str(1).Append(r.Name)
		bld.Field(2).(*array.Date32Builder).Append(arrow.Date32FromTime(r.Month))
		str(3).Append(r.Platform)
		str(4).Append(r.Release)
		str(5).Append(r.Metric)
		bld.Field(6).(*array.Int64Builder).Append(r.Count)
		bld.Field(7).(*array.Float64Builder).Append(r.Pooled)
		bld.Field(8).(*array.Float64Builder).Append(r.Total)
	}
	return bld.NewRecordBatch()
}

func (sh sheet) writeParquet(w io.Writer) error {
	rec, err := sh.parquetRecord()
	if err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	defer rec.Release()
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy))
	fw, err := pqarrow.NewFileWriter(usageParquetSchema, w, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	if err := fw.Write(rec); err != nil {
		fw.Close()
		return fmt.Errorf("parquet: %w", err)
	}
	if err := fw.Close(); err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	return nil
}

// parquetRecord is the sheet's rows in parquetOrder as one record. A
// library's rows are the same in its own, its county's and the nation's
// file: with fragments (a build's), each library's columns are made once,
// in order, and a county's or the nation's are theirs put together, sorted
// by library, instead of every row sorted and appended three times.
func (sh sheet) parquetRecord() (arrow.RecordBatch, error) {
	if sh.frags == nil || len(sh.runs) == 0 {
		return parquetColumns(parquetOrder(sh.rows)), nil
	}
	type piece struct {
		first libraryUsage
		cols  []arrow.Array
	}
	keys := map[string]bool{}
	for _, run := range sh.runs {
		if keys[run.key] || run.n == 0 { // not one run per library: sorted in full
			return parquetColumns(parquetOrder(sh.rows)), nil
		}
		keys[run.key] = true
	}
	var pieces []piece
	rest := sh.rows
	for _, run := range sh.runs {
		rows := rest[:run.n]
		cols, err := sh.frags.getColumns(run.key, "parquet", func() ([]arrow.Array, error) {
			rec := parquetColumns(parquetOrder(rows))
			return rec.Columns(), nil
		})
		if err != nil {
			return nil, err
		}
		if len(cols) != len(usageParquetSchema.Fields()) || cols[0].Len() != run.n {
			return nil, fmt.Errorf("library %q: %d rows made for %d", run.key, cols[0].Len(), run.n)
		}
		pieces = append(pieces, piece{rows[0], cols})
		rest = rest[run.n:]
	}
	if len(rest) > 0 { // the nation's unattributed usage: one run of its own
		pieces = append(pieces, piece{rest[0], parquetColumns(parquetOrder(rest)).Columns()})
	}
	// Each piece is one library's, so sorted within; sorted by library, as
	// parquetOrder sorts runs, they are the whole sort. A library in two
	// pieces is sorted in full instead.
	slices.SortStableFunc(pieces, func(a, b piece) int {
		return cmp.Or(cmp.Compare(a.first.ID, b.first.ID), cmp.Compare(a.first.Name, b.first.Name))
	})
	for i := 1; i < len(pieces); i++ {
		if pieces[i].first.ID == pieces[i-1].first.ID && pieces[i].first.Name == pieces[i-1].first.Name {
			return parquetColumns(parquetOrder(sh.rows)), nil
		}
	}
	cols := make([]arrow.Array, len(usageParquetSchema.Fields()))
	for c := range cols {
		parts := make([]arrow.Array, len(pieces))
		for i, p := range pieces {
			parts[i] = p.cols[c]
		}
		col, err := array.Concatenate(parts, memory.DefaultAllocator)
		if err != nil {
			return nil, err
		}
		defer col.Release()
		cols[c] = col
	}
	return array.NewRecordBatch(usageParquetSchema, cols, int64(len(sh.rows))), nil
}
