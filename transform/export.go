package transform

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/bibliotek24/bibstat"
)

// Sink is what export needs of the object store.
type Sink interface {
	Put(ctx context.Context, key string, r io.Reader) error
	List(ctx context.Context, prefix string) ([]string, error)
	Delete(ctx context.Context, key string) error
}

// ExportSummary counts what an export wrote.
type ExportSummary struct {
	Tables, Files int
	Rows          int64
}

// Export writes every mart as Hive-partitioned Parquet to dst under
// curated/<table>/year=YYYY/month=MM/, readable by any Parquet reader
// without BibStat, e.g. DuckDB's
// read_parquet('curated/mart_library_month/**/*.parquet', hive_partitioning = true).
// The mart's month (a DATE) is written as the column period, because year and
// month are the partition columns. Files a previous export left that this
// one did not write are deleted afterwards, so readers never see stale
// partitions beside fresh ones for long. DuckDB writes into a local temporary
// directory; the store receives the files through Go (no httpfs).
func (w *Warehouse) Export(ctx context.Context, dst Sink) (ExportSummary, error) {
	tmp, err := os.MkdirTemp("", "bibstat-export-")
	if err != nil {
		return ExportSummary{}, fmt.Errorf("export: %w", err)
	}
	defer os.RemoveAll(tmp)
	var sum ExportSummary
	for _, table := range Marts {
		files, rows, err := w.exportTable(ctx, dst, tmp, table)
		if err != nil {
			return sum, err
		}
		sum.Tables++
		sum.Files += files
		sum.Rows += rows
	}
	return sum, nil
}

func (w *Warehouse) exportTable(ctx context.Context, dst Sink, tmp, table string) (int, int64, error) {
	dir := filepath.Join(tmp, table)
	// ORDER BY ALL makes the files the same for the same data.
	q := fmt.Sprintf(`COPY (SELECT * EXCLUDE (month), month AS period, year(month) AS year,
		lpad(month(month)::VARCHAR, 2, '0') AS month FROM %s ORDER BY ALL)
		TO '%s' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (year, month))`, table, strings.ReplaceAll(dir, "'", "''"))
	res, err := w.DB.ExecContext(ctx, q)
	if err != nil {
		return 0, 0, fmt.Errorf("export %s: %w", table, err)
	}
	rows, _ := res.RowsAffected()
	prefix := bibstat.CuratedTablePrefix(table)
	written := map[string]bool{}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		key := prefix + filepath.ToSlash(rel)
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := dst.Put(ctx, key, f); err != nil {
			return err
		}
		written[key] = true
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		return 0, 0, fmt.Errorf("export %s: %w", table, err)
	}
	old, err := dst.List(ctx, prefix)
	if err != nil {
		return 0, 0, fmt.Errorf("export %s: %w", table, err)
	}
	for _, k := range old {
		if !written[k] {
			if err := dst.Delete(ctx, k); err != nil {
				return 0, 0, fmt.Errorf("export %s: remove stale %s: %w", table, k, err)
			}
		}
	}
	return len(written), rows, nil
}
