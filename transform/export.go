package transform

import (
	"bytes"
	"context"
	"encoding/json"
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
// read_parquet('curated/mart_library_month/**/*.parquet', hive_partitioning = true),
// and describes them in curated/_schema.json (LakeSchema).
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
	schema := LakeSchema{Version: LakeVersion, Format: "parquet", Compression: "zstd"}
	for _, table := range Marts {
		files, rows, err := w.exportTable(ctx, dst, tmp, table)
		if err != nil {
			return sum, err
		}
		t, err := w.lakeTable(ctx, table)
		if err != nil {
			return sum, err
		}
		schema.Tables = append(schema.Tables, t)
		sum.Tables++
		sum.Files += files
		sum.Rows += rows
	}
	// Written last: a reader that finds the schema finds the files it describes.
	b, err := json.MarshalIndent(schema, "", "  ")
	if err != nil {
		return sum, fmt.Errorf("export %s: %w", LakeSchemaKey, err)
	}
	if err := dst.Put(ctx, LakeSchemaKey, bytes.NewReader(append(b, '\n'))); err != nil {
		return sum, fmt.Errorf("export %s: %w", LakeSchemaKey, err)
	}
	return sum, nil
}

// exportSelect is the query a mart is exported by: its month becomes
// period, and year and month (zero-padded text) its partition columns.
func exportSelect(table string) string {
	return fmt.Sprintf(`SELECT * EXCLUDE (month), month AS period, year(month) AS year,
		lpad(month(month)::VARCHAR, 2, '0') AS month FROM %s`, table)
}

func (w *Warehouse) exportTable(ctx context.Context, dst Sink, tmp, table string) (int, int64, error) {
	dir := filepath.Join(tmp, table)
	// ORDER BY ALL makes the files the same for the same data.
	q := fmt.Sprintf(`COPY (%s ORDER BY ALL)
		TO '%s' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (year, month))`, exportSelect(table), strings.ReplaceAll(dir, "'", "''"))
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

// LakeVersion is the version of the lake's layout in its schema file: it
// changes when a reader of the lake must, a column renamed or retyped or
// the partitioning changed, not when a column is added.
const LakeVersion = 1

// LakeSchemaKey names the lake's schema file.
const LakeSchemaKey = bibstat.CuratedPrefix + "_schema.json"

// LakeSchema is curated/_schema.json: what an engine that is not ours needs
// to declare the lake's tables (README: "The Parquet lake").
type LakeSchema struct {
	Version     int         `json:"version"`
	Format      string      `json:"format"`
	Compression string      `json:"compression"`
	Tables      []LakeTable `json:"tables"`
}

// LakeTable is one exported mart: the columns in its files, then the
// partition keys that are only in its paths (year=YYYY/month=MM).
type LakeTable struct {
	Name          string       `json:"name"`
	Location      string       `json:"location"` // key prefix in the store
	Columns       []LakeColumn `json:"columns"`
	PartitionKeys []LakeColumn `json:"partition_keys"`
}

// LakeColumn is a column with its DuckDB type and the Hive (Spark, Trino
// Hive connector) type to declare it with.
type LakeColumn struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	HiveType string `json:"hive_type"`
}

// lakePartitions are the partition keys as Hive reads them from the paths.
var lakePartitions = []LakeColumn{
	{Name: "year", Type: "BIGINT", HiveType: "INT"},
	{Name: "month", Type: "VARCHAR", HiveType: "STRING"},
}

// lakeTable describes what exportTable writes for table.
func (w *Warehouse) lakeTable(ctx context.Context, table string) (LakeTable, error) {
	rows, err := w.DB.QueryContext(ctx, "SELECT column_name, column_type FROM (DESCRIBE "+exportSelect(table)+")")
	if err != nil {
		return LakeTable{}, fmt.Errorf("export %s: describe: %w", table, err)
	}
	defer rows.Close()
	t := LakeTable{Name: table, Location: bibstat.CuratedTablePrefix(table), PartitionKeys: lakePartitions}
	for rows.Next() {
		var c LakeColumn
		if err := rows.Scan(&c.Name, &c.Type); err != nil {
			return LakeTable{}, fmt.Errorf("export %s: describe: %w", table, err)
		}
		if c.Name == "year" || c.Name == "month" {
			continue // partition keys: in the paths, not the files
		}
		c.HiveType = hiveType(c.Type)
		t.Columns = append(t.Columns, c)
	}
	if err := rows.Err(); err != nil {
		return LakeTable{}, fmt.Errorf("export %s: describe: %w", table, err)
	}
	return t, nil
}

// hiveType is the Hive type a DuckDB column type is written to Parquet as.
// A type without its own Hive name is declared STRING, the type a reader
// can always look at; none of the marts has one today.
func hiveType(duck string) string {
	switch {
	case duck == "VARCHAR":
		return "STRING"
	case duck == "BIGINT", duck == "DOUBLE", duck == "DATE", duck == "BOOLEAN", duck == "TIMESTAMP":
		return duck
	case duck == "INTEGER":
		return "INT"
	case duck == "FLOAT":
		return "FLOAT"
	case duck == "HUGEINT":
		return "DECIMAL(38,0)"
	case strings.HasPrefix(duck, "DECIMAL("):
		return duck
	}
	return "STRING"
}
