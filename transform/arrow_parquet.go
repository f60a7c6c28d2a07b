//go:build !duckdb_arrow

package transform

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/bibliotek24/bibstat/schemas"
)

// ArrowScan says how RegisterRecords hands record batches to DuckDB:
// false in a build without the duckdb_arrow tag, where they go through a
// local Parquet file (the driver's Arrow interface is built only with the
// tag).
const ArrowScan = false

// RegisterRecords makes recs the temporary view name on conn, for the
// statements that follow on conn (or a transaction of it) to read once.
// Without DuckDB's Arrow interface, it writes recs whole to a Parquet file
// in tmp, while the senders parse, and the view reads that file. It takes
// over the caller's reference to recs. drop removes the view and the
// file; call it after the statement that reads the view.
func RegisterRecords(ctx context.Context, conn *sql.Conn, tmp, name string, recs array.RecordReader) (drop func(), err error) {
	defer recs.Release()
	file := filepath.Join(tmp, name+".parquet")
	err = writeFile(file, recs.Schema(), func(pw *schemas.ParquetWriter) error {
		for recs.Next() {
			rec := recs.RecordBatch()
			rec.Retain()
			if err := pw.Write(rec); err != nil {
				return err
			}
		}
		return recs.Err()
	})
	if err != nil {
		os.Remove(file)
		return nil, fmt.Errorf("register %s: %w", name, err)
	}
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP VIEW "`+name+`" AS SELECT * FROM read_parquet(`+sqlList([]string{file})+`)`); err != nil {
		os.Remove(file)
		return nil, fmt.Errorf("register %s: %w", name, err)
	}
	return func() {
		conn.ExecContext(context.WithoutCancel(ctx), `DROP VIEW IF EXISTS "`+name+`"`)
		os.Remove(file)
	}, nil
}

// writeFile creates the Parquet file name of schema and fills it with write.
func writeFile(name string, schema *arrow.Schema, write func(*schemas.ParquetWriter) error) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	pw, err := schemas.NewParquetWriterOf(schema, f)
	if err != nil {
		f.Close()
		return err
	}
	werr := write(pw)
	err = pw.Close()
	// The Parquet writer closes its file too; closing it again is harmless.
	if cerr := f.Close(); cerr != nil && !errors.Is(cerr, os.ErrClosed) && err == nil {
		err = fmt.Errorf("load: %w", cerr)
	}
	if werr != nil {
		return werr
	}
	return err
}
