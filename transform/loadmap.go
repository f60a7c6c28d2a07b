package transform

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/bibliotek24/bibstat"
)

// loadMapRow is one unit of a chunk as the load map holds it.
type loadMapRow struct {
	File        string `json:"file"`
	UnitKey     string `json:"unit_key"`
	RawKey      string `json:"raw_key"`
	ParsedKey   string `json:"parsed_key"`
	LibraryID   string `json:"library_id"`
	Platform    string `json:"platform"`
	ReportID    string `json:"report_id"`
	Month       string `json:"month"` // its first day, YYYY-MM-DD
	State       string `json:"state"`
	Rows        int64  `json:"rows"`
	Release     string `json:"release"`
	Source      string `json:"source"`
	HarvestedUS int64  `json:"harvested_us"` // microseconds since 1970, UTC
}

// putLoadMap fills the temp table load_map with the chunk's units that
// read (not those in bad): the file each one's rows are in, its source
// and what loaded_units records of it. It goes in as one JSON file that
// DuckDB reads: a multi-row insert of 13 parameters a unit cost more to
// prepare than the load of the units' rows.
func putLoadMap(ctx context.Context, tx *sql.Tx, tmp string, chunk []bibstat.Sidecar, bad map[int]string, files chunkFiles, arrived map[string]time.Time) error {
	name := filepath.Join(tmp, "load_map.json")
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	defer os.Remove(name)
	bw := bufio.NewWriter(f)
	enc := json.NewEncoder(bw)
	for i, side := range chunk {
		if _, failed := bad[i]; failed {
			continue
		}
		m, err := bibstat.ParseMonth(side.Month)
		if err != nil {
			f.Close()
			return fmt.Errorf("load %s: sidecar month: %w", side.Key, err)
		}
		row := loadMapRow{File: files.perUnit[i], UnitKey: sourceKey(side), RawKey: side.Key, ParsedKey: side.ParsedKey,
			LibraryID: string(side.Library), Platform: side.Platform, ReportID: string(side.Report),
			Month: m.First().Format(time.DateOnly), State: string(side.State), Rows: side.Rows, Release: side.Release,
			Source: sourceOf(side), HarvestedUS: arrivedAt(side, arrived).UnixMicro()}
		if err := enc.Encode(row); err != nil {
			f.Close()
			return fmt.Errorf("load: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("load: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	_, err = tx.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE load_map AS
		SELECT file, unit_key, raw_key, parsed_key, library_id, platform, report_id, month::DATE AS month, state, rows,
		       release, source, make_timestamp(harvested_us) AS harvested_at
		FROM read_json(`+sqlList([]string{name})+`, format = 'newline_delimited', columns = {file: 'VARCHAR',
		     unit_key: 'VARCHAR', raw_key: 'VARCHAR', parsed_key: 'VARCHAR', library_id: 'VARCHAR', platform: 'VARCHAR',
		     report_id: 'VARCHAR', month: 'VARCHAR', state: 'VARCHAR', rows: 'BIGINT', release: 'VARCHAR',
		     source: 'VARCHAR', harvested_us: 'BIGINT'})`)
	if err != nil {
		return fmt.Errorf("load: load map: %w", err)
	}
	return nil
}
