package schemas

import (
	"bytes"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// ParquetWriter writes record batches of Usage (or more) as one Parquet file: the parsed
// form of a raw object, which the warehouse loads with read_parquet.
type ParquetWriter struct {
	fw   *pqarrow.FileWriter
	rows int64
}

// writerProps suit the parsed Parquet of one unit: a handful of rows,
// written 135,000 times a night. Zstd's encoder setup, per-column
// dictionaries and statistics cost more than they save at that size
// (ingest's BenchmarkClassify: 2.3 MB and 1.7 ms a unit with them, about a
// third of that without); the file is mostly metadata, so compression gains
// nothing either.
// A row group holds at most DuckDB's own row group of rows: DuckDB reads
// a file's row groups in parallel, and a large file of one row group (a
// whole chunk or report) on one thread.
var writerProps = parquet.NewWriterProperties(
	parquet.WithCompression(compress.Codecs.Uncompressed),
	parquet.WithDictionaryDefault(false),
	parquet.WithStats(false),
	parquet.WithMaxRowGroupLength(122_880),
)

// NewParquetWriter starts a Parquet file of Usage on w.
func NewParquetWriter(w io.Writer) (*ParquetWriter, error) { return NewParquetWriterOf(Usage, w) }

// NewParquetWriterOf starts a Parquet file of schema on w: Usage and
// columns added to it.
func NewParquetWriterOf(schema *arrow.Schema, w io.Writer) (*ParquetWriter, error) {
	fw, err := pqarrow.NewFileWriter(schema, w, writerProps, pqarrow.DefaultWriterProps())
	if err != nil {
		return nil, fmt.Errorf("parquet writer: %w", err)
	}
	return &ParquetWriter{fw: fw}, nil
}

// Write writes rec and releases it, so it can serve as a reader's emit callback.
func (p *ParquetWriter) Write(rec arrow.RecordBatch) error {
	defer rec.Release()
	p.rows += rec.NumRows()
	if err := p.fw.WriteBuffered(rec); err != nil {
		return fmt.Errorf("parquet write: %w", err)
	}
	return nil
}

// Rows is how many rows were written.
func (p *ParquetWriter) Rows() int64 { return p.rows }

// Close finishes the file (without closing the underlying writer's owner).
func (p *ParquetWriter) Close() error {
	if err := p.fw.Close(); err != nil {
		return fmt.Errorf("parquet close: %w", err)
	}
	return nil
}

// ParquetOf is rows as one Parquet file in memory: for fixtures and other
// handfuls of rows, where a writer, a Batcher and their closing would be
// more lines than the rows.
func ParquetOf(rows []Row) ([]byte, error) {
	var buf bytes.Buffer
	pw, err := NewParquetWriter(&buf)
	if err != nil {
		return nil, err
	}
	bt := NewBatcher(nil, 0, pw.Write)
	defer bt.Release()
	for i := range rows {
		if err := bt.Add(&rows[i]); err != nil {
			return nil, fmt.Errorf("parquet of rows: row %d: %w", i, err)
		}
	}
	if err := bt.Flush(); err != nil {
		return nil, err
	}
	if err := pw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
