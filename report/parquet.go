package report

import (
	"bytes"
	"cmp"
	"fmt"
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
	rows := slices.Clone(sh.rows)
	slices.SortFunc(rows, func(a, b libraryUsage) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Name, b.Name), a.Month.Compare(b.Month),
			cmp.Compare(a.Platform, b.Platform), cmp.Compare(a.Release, b.Release), cmp.Compare(a.Metric, b.Metric))
	})
	bld := array.NewRecordBuilder(memory.DefaultAllocator, usageParquetSchema)
	defer bld.Release()
	str := func(i int) *array.StringBuilder { return bld.Field(i).(*array.StringBuilder) }
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
	rec := bld.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy))
	fw, err := pqarrow.NewFileWriter(usageParquetSchema, &buf, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return nil, fmt.Errorf("parquet: %w", err)
	}
	if err := fw.Write(rec); err != nil {
		fw.Close()
		return nil, fmt.Errorf("parquet: %w", err)
	}
	if err := fw.Close(); err != nil {
		return nil, fmt.Errorf("parquet: %w", err)
	}
	return buf.Bytes(), nil
}
