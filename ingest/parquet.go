package ingest

import (
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/bibliotek24/bibstat/schemas"
)

// unitWriterProps suit the parsed Parquet of one harvest unit: a handful
// of rows, written 135,000 times a night. Zstd's encoder setup, per-column
// dictionaries and statistics cost more than they save at that size
// (BenchmarkClassify: 2.3 MB and 1.7 ms a unit with schemas' defaults,
// about a third of that with these); the file is mostly metadata, so
// compression gains nothing either. Any reader of schemas.Usage reads
// them alike.
var unitWriterProps = parquet.NewWriterProperties(
	parquet.WithCompression(compress.Codecs.Uncompressed),
	parquet.WithDictionaryDefault(false),
	parquet.WithStats(false),
)

var unitArrowProps = pqarrow.DefaultWriterProps()

// unitWriter writes a unit's Usage batches as one Parquet file.
type unitWriter struct {
	fw *pqarrow.FileWriter
}

func newUnitWriter(w io.Writer) (*unitWriter, error) {
	fw, err := pqarrow.NewFileWriter(schemas.Usage, w, unitWriterProps, unitArrowProps)
	if err != nil {
		return nil, fmt.Errorf("parquet writer: %w", err)
	}
	return &unitWriter{fw: fw}, nil
}

// Write writes rec and releases it, as a reader's emit callback.
func (u *unitWriter) Write(rec arrow.RecordBatch) error {
	defer rec.Release()
	if err := u.fw.WriteBuffered(rec); err != nil {
		return fmt.Errorf("parquet write: %w", err)
	}
	return nil
}

func (u *unitWriter) Close() error {
	if err := u.fw.Close(); err != nil {
		return fmt.Errorf("parquet close: %w", err)
	}
	return nil
}
