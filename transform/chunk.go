package transform

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
)

// loadChunk replaces the facts of a chunk of units in one transaction.
// reloads says whether any unit of the chunk has facts already: only then
// must old facts be found and deleted, a scan a first load can skip.
// The harvests that do not read are left out and returned, by chunk index,
// with why.
func (w *Warehouse) loadChunk(ctx context.Context, src Source, tmp string, chunk []bibstat.Sidecar, reloads bool, arrived map[string]time.Time) (int64, map[int]string, error) {
	start := time.Now()
	files, bad, err := localParsed(ctx, src, tmp, chunk)
	defer files.remove()
	if err != nil || len(bad) == len(chunk) {
		return 0, bad, err
	}
	parsed := time.Now()
	defer func() {
		w.log.Debug("load chunk", "units", len(chunk), "parse", parsed.Sub(start), "sql", time.Since(parsed))
	}()

	tx, err := w.DB.BeginTx(ctx, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("load: %w", err)
	}
	defer tx.Rollback()
	if err := putLoadMap(ctx, tx, tmp, chunk, bad, files, arrived); err != nil {
		return 0, nil, err
	}
	if reloads {
		// The months the superseded facts covered must be summed again too.
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO dirty_months
			SELECT DISTINCT month FROM facts WHERE unit_key IN (SELECT unit_key FROM load_map)`); err != nil {
			return 0, nil, fmt.Errorf("load: supersede: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM facts WHERE unit_key IN (SELECT unit_key FROM load_map)`); err != nil {
			return 0, nil, fmt.Errorf("load: supersede: %w", err)
		}
	}
	var n int64
	var inserts []string
	if copied := files.copied(); len(copied) > 0 {
		inserts = append(inserts, `INSERT INTO facts BY NAME
			SELECT f.* EXCLUDE (filename), m.unit_key, m.library_id
			FROM read_parquet(`+sqlList(copied)+`, filename = true, union_by_name = true) f JOIN load_map m ON f.filename = m.file`)
	}
	if len(files.parsed) > 0 {
		inserts = append(inserts, `INSERT INTO facts BY NAME
			SELECT f.*, m.unit_key, m.library_id
			FROM read_parquet(`+sqlList(files.parsed)+`) f JOIN load_map m ON f.source_key = m.raw_key`)
	}
	for _, q := range inserts {
		res, err := tx.ExecContext(ctx, q)
		if err != nil {
			return 0, nil, fmt.Errorf("load: insert facts: %w", err)
		}
		rows, _ := res.RowsAffected()
		n += rows
	}
	// A unit's rows are of the unit's month (ingest splits uploads per
	// unit), so the sidecars name the months to sum again.
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO dirty_months SELECT DISTINCT month FROM load_map`); err != nil {
		return 0, nil, fmt.Errorf("load: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO loaded_units
		SELECT unit_key, raw_key, parsed_key, library_id, platform, report_id, month, state, rows, release, source, harvested_at FROM load_map`); err != nil {
		return 0, nil, fmt.Errorf("load: record units: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, nil, fmt.Errorf("load: commit: %w", err)
	}
	return n, bad, nil
}

// sqlList writes paths as a DuckDB list literal.
func sqlList(paths []string) string {
	quoted := make([]string, len(paths))
	for i, p := range paths {
		quoted[i] = "'" + strings.ReplaceAll(p, "'", "''") + "'"
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}
