package transform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/counter"
	"github.com/bibliotek24/bibstat/schemas"
)

// Source is what loading needs of the object store.
type Source interface {
	List(ctx context.Context, prefix string) ([]string, error)
	Get(ctx context.Context, key string) (io.ReadCloser, error)
}

// LoadSummary counts what a load did.
type LoadSummary struct {
	Units     int   // units with a loadable harvest in the archive
	Loaded    int   // units whose facts were (re)loaded now
	Unchanged int   // units already loaded from their newest harvest that reads
	Rows      int64 // fact rows inserted now
	// Failed are the harvests whose sidecar says loadable but whose raw
	// object does not read now, or reads to nothing that is not the
	// vendor's "no usage": each unit keeps the facts it had, or is loaded
	// from its newest older harvest that reads.
	Failed []LoadFailure
}

// LoadFailure is one harvest that could not be loaded, and why.
type LoadFailure struct {
	Key    string // the raw object
	Reason string
}

// loadChunk bounds how many units one transaction loads: enough to let
// read_parquet work in bulk, few enough to keep temp files and memory small.
const loadChunk = 2048

// Load brings the facts up to date with the archive: every unit whose
// newest loadable harvest is not the one loaded gets its facts replaced.
// "Loadable" is the sidecar's word checked against the object: a harvest
// that does not read, or reads to nothing without saying "no usage"
// (Empty, 3030), never replaces a unit's facts; the next older one is
// tried instead, down to the one loaded.
func (w *Warehouse) Load(ctx context.Context, src Source) (LoadSummary, error) {
	cands, err := loadableHarvests(ctx, src)
	if err != nil {
		return LoadSummary{}, err
	}
	arrived := firstArrivals(cands)
	loaded, err := w.loadedUnits(ctx)
	if err != nil {
		return LoadSummary{}, err
	}
	sum := LoadSummary{Units: len(cands)}
	next := map[string]int{} // unit → index of the harvest being tried
	var todo []bibstat.Sidecar
	for unit, cs := range cands {
		if loaded[unit] == cs[0].Key {
			sum.Unchanged++
			continue
		}
		todo = append(todo, cs[0])
	}
	tmp, err := os.MkdirTemp("", "bibstat-load-")
	if err != nil {
		return sum, fmt.Errorf("load: %w", err)
	}
	defer os.RemoveAll(tmp)
	for len(todo) > 0 {
		failed, err := w.loadAll(ctx, src, tmp, todo, loaded, arrived, &sum)
		if err != nil {
			return sum, err
		}
		// Each unit whose harvest failed falls back on its next older one.
		todo = todo[:0]
		for _, side := range failed {
			unit := sourceKey(side)
			next[unit]++
			if next[unit] >= len(cands[unit]) {
				continue
			}
			if older := cands[unit][next[unit]]; loaded[unit] == older.Key {
				sum.Unchanged++
			} else {
				todo = append(todo, older)
			}
		}
	}
	copiesChanged, err := w.putStaleCopies(ctx, cands)
	if err != nil {
		return sum, err
	}
	var dirty int
	if err := w.DB.QueryRowContext(ctx, `SELECT count(*) FROM dirty_months`).Scan(&dirty); err != nil {
		return sum, fmt.Errorf("load: %w", err)
	}
	if dirty > 0 || sum.Loaded > 0 || copiesChanged {
		if err := w.Refresh(ctx); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// loadAll loads todo in chunks and returns the harvests that failed to
// read, recorded in sum and logged.
func (w *Warehouse) loadAll(ctx context.Context, src Source, tmp string, todo []bibstat.Sidecar, loaded map[string]string, arrived map[string]time.Time, sum *LoadSummary) ([]bibstat.Sidecar, error) {
	sort.Slice(todo, func(i, j int) bool { return todo[i].Key < todo[j].Key })
	var failed []bibstat.Sidecar
	for start := 0; start < len(todo); start += loadChunk {
		chunk := todo[start:min(start+loadChunk, len(todo))]
		reloads := false
		for _, side := range chunk {
			if _, ok := loaded[sourceKey(side)]; ok {
				reloads = true
				break
			}
		}
		n, bad, err := w.loadChunk(ctx, src, tmp, chunk, reloads, arrived)
		if err != nil {
			return nil, err
		}
		for i, why := range bad {
			side := chunk[i]
			sum.Failed = append(sum.Failed, LoadFailure{Key: side.Key, Reason: why})
			w.log.Warn("harvest not loaded: the unit keeps its facts", "key", side.Key, "reason", why)
			failed = append(failed, side)
		}
		sum.Loaded += len(chunk) - len(bad)
		sum.Rows += n
		w.log.Debug("loaded units", "done", sum.Loaded, "of", len(todo))
	}
	return failed, nil
}

// loadableHarvests reads every sidecar and keeps, per unit, those whose
// object is loadable, newest first. Raw keys sort by harvest time within a
// unit.
func loadableHarvests(ctx context.Context, src Source) (map[string][]bibstat.Sidecar, error) {
	keys, err := src.List(ctx, bibstat.RawPrefix)
	if err != nil {
		return nil, fmt.Errorf("list raw archive: %w", err)
	}
	out := map[string][]bibstat.Sidecar{}
	for _, k := range keys {
		if !bibstat.IsSidecar(k) {
			continue
		}
		side, err := readSidecar(ctx, src, k)
		if err != nil {
			return nil, err
		}
		if !side.Loadable() {
			continue
		}
		u := sourceKey(side)
		out[u] = append(out[u], side)
	}
	for _, cs := range out {
		sort.Slice(cs, func(i, j int) bool { return cs[i].Key > cs[j].Key })
	}
	return out, nil
}

// sourceKey names the source a harvest belongs to, within which a newer
// harvest supersedes the older (a restatement). A SUSHI unit is one
// source: the harvest asks the platform's one release, and its newest
// answer, a 3030 without a header too, is what the vendor says now. An
// upload unit is one source per COUNTER release: an R5 TR uploaded after
// the R5.1 TR of its month is another statement of that usage, not a
// restatement, and the rule of choice in schemas/sql/marts.sql
// (source_choice) decides which counts.
func sourceKey(side bibstat.Sidecar) string {
	if side.Source == "upload" {
		return bibstat.UnitPrefixOf(side.Key) + "@" + side.Release
	}
	return bibstat.UnitPrefixOf(side.Key)
}

// sourceOf says where a harvest came from, as platforms[].prefer_source
// names it: "sushi", or "upload/VENDOR" for a file uploaded under VENDOR.
func sourceOf(side bibstat.Sidecar) string {
	if rest, ok := strings.CutPrefix(side.Key, bibstat.RawPrefix+"upload/"); ok {
		vendor, _, _ := strings.Cut(rest, "/")
		return "upload/" + vendor
	}
	if side.Source == "" {
		return "sushi"
	}
	return side.Source
}

func readSidecar(ctx context.Context, src Source, key string) (bibstat.Sidecar, error) {
	rc, err := src.Get(ctx, key)
	if err != nil {
		return bibstat.Sidecar{}, fmt.Errorf("read sidecar: %w", err)
	}
	defer rc.Close()
	side, err := bibstat.DecodeSidecar(rc)
	if err != nil {
		return bibstat.Sidecar{}, fmt.Errorf("read sidecar %s: %w", key, err)
	}
	if bibstat.SidecarKey(side.Key) != key {
		return bibstat.Sidecar{}, fmt.Errorf("read sidecar %s: it describes %q", key, side.Key)
	}
	return side, nil
}

func (w *Warehouse) loadedUnits(ctx context.Context) (map[string]string, error) {
	rows, err := w.DB.QueryContext(ctx, `SELECT unit_key, raw_key FROM loaded_units`)
	if err != nil {
		return nil, fmt.Errorf("read loaded units: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var u, k string
		if err := rows.Scan(&u, &k); err != nil {
			return nil, fmt.Errorf("read loaded units: %w", err)
		}
		out[u] = k
	}
	return out, rows.Err()
}

// loadChunk replaces the facts of a chunk of units in one transaction.
// reloads says whether any unit of the chunk has facts already: only then
// must old facts be found and deleted, a scan a first load can skip.
// The harvests that do not read are left out and returned, by chunk index,
// with why.
func (w *Warehouse) loadChunk(ctx context.Context, src Source, tmp string, chunk []bibstat.Sidecar, reloads bool, arrived map[string]time.Time) (int64, map[int]string, error) {
	files, bad, err := localParsed(ctx, src, tmp, chunk)
	defer files.remove()
	if err != nil || len(bad) == len(chunk) {
		return 0, bad, err
	}

	tx, err := w.DB.BeginTx(ctx, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("load: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE load_map (file VARCHAR, unit_key VARCHAR, raw_key VARCHAR, parsed_key VARCHAR,
		library_id VARCHAR, platform VARCHAR, report_id VARCHAR, month DATE, state VARCHAR, rows BIGINT,
		release VARCHAR, source VARCHAR, harvested_at TIMESTAMP)`); err != nil {
		return 0, nil, fmt.Errorf("load: %w", err)
	}
	// One multi-row insert: a statement per unit would cost more than
	// reading the unit's rows.
	var vals strings.Builder
	args := make([]any, 0, 13*len(chunk))
	for i, side := range chunk {
		if _, failed := bad[i]; failed {
			continue
		}
		m, err := bibstat.ParseMonth(side.Month)
		if err != nil {
			return 0, nil, fmt.Errorf("load %s: sidecar month: %w", side.Key, err)
		}
		if len(args) > 0 {
			vals.WriteString(", ")
		}
		vals.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, files.perUnit[i], sourceKey(side), side.Key, side.ParsedKey, string(side.Library), side.Platform,
			string(side.Report), m.First(), string(side.State), side.Rows, side.Release, sourceOf(side), arrivedAt(side, arrived))
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO load_map VALUES `+vals.String(), args...); err != nil {
		return 0, nil, fmt.Errorf("load: %w", err)
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
	if files.parsed != "" {
		inserts = append(inserts, `INSERT INTO facts BY NAME
			SELECT f.*, m.unit_key, m.library_id
			FROM read_parquet(`+sqlList([]string{files.parsed})+`) f JOIN load_map m ON f.source_key = m.raw_key`)
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

// chunkFiles are a chunk's parsed rows in local files for read_parquet.
type chunkFiles struct {
	perUnit []string // by chunk index: a copy of the unit's stored Parquet, or ""
	parsed  string   // every other unit's raw object, parsed into one file; or ""
}

// copied lists the per-unit copies.
func (c chunkFiles) copied() []string {
	var out []string
	for _, f := range c.perUnit {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

func (c chunkFiles) remove() {
	for _, f := range append(c.copied(), c.parsed) {
		if f != "" {
			os.Remove(f)
		}
	}
}

// localParsed gathers a chunk's rows, and says which harvests (by chunk
// index) do not read, with why: their rows, if any were written before the
// reader stopped, carry a raw key the load map does not name. A unit with stored parsed rows of
// this parser version (uploads) is copied as it is; every other unit's raw
// object is parsed now, all into one Parquet file: one writer for hundreds
// of units costs a fraction of a file each, and the rows carry their raw
// key (source_key) to find their unit.
func localParsed(ctx context.Context, src Source, tmp string, chunk []bibstat.Sidecar) (chunkFiles, map[int]string, error) {
	files := chunkFiles{perUnit: make([]string, len(chunk))}
	bad := map[int]string{}
	var pf *os.File
	var pw *schemas.ParquetWriter
	uploads := newRereads()
	for i, side := range chunk {
		name, ok, err := copyParsed(ctx, src, tmp, i, side)
		if err != nil {
			return files, bad, err
		}
		if ok {
			files.perUnit[i] = name
			continue
		}
		if pw == nil {
			if pf, err = os.Create(filepath.Join(tmp, "parsed.parquet")); err != nil {
				return files, bad, fmt.Errorf("load: %w", err)
			}
			files.parsed = pf.Name()
			if pw, err = schemas.NewParquetWriter(pf); err != nil {
				pf.Close()
				return files, bad, err
			}
		}
		var why string
		if side.Upload != nil { // its key names a unit, not an object: its file is read
			why, err = uploads.read(ctx, src, side, pw)
		} else {
			why, err = parseRaw(ctx, src, side, pw)
		}
		if err != nil {
			pw.Close()
			pf.Close()
			return files, bad, err
		}
		if why != "" {
			bad[i] = why
		}
	}
	if pw != nil {
		err := pw.Close()
		// The Parquet writer closes its file too; closing it again is harmless.
		if cerr := pf.Close(); cerr != nil && !errors.Is(cerr, os.ErrClosed) && err == nil {
			err = fmt.Errorf("load: %w", cerr)
		}
		if err != nil {
			return files, bad, err
		}
	}
	return files, bad, nil
}

// copyParsed copies the unit's stored parsed rows when this parser version
// wrote them; older ones are read again from raw (an upload's from its
// file, rereadUpload), so that a reader fix reaches every unit.
func copyParsed(ctx context.Context, src Source, tmp string, i int, side bibstat.Sidecar) (string, bool, error) {
	current := side.ParserVersion == schemas.Version
	if !current || side.ParsedKey == "" {
		return "", false, nil
	}
	rc, err := src.Get(ctx, side.ParsedKey)
	if errors.Is(err, bibstat.ErrNotFound) {
		return "", false, nil // made again from the raw object
	}
	if err != nil {
		return "", false, fmt.Errorf("load %s: %w", side.ParsedKey, err)
	}
	defer rc.Close()
	name := filepath.Join(tmp, fmt.Sprintf("%06d.parquet", i))
	f, err := os.Create(name)
	if err != nil {
		return "", false, fmt.Errorf("load %s: %w", side.Key, err)
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return "", false, fmt.Errorf("load %s: %w", side.ParsedKey, err)
	}
	return name, true, f.Close()
}

// parseRaw reads a unit's raw object with this binary's reader into pw.
// why says, when it is not "", why the harvest is not loaded: the object
// does not read, or reads to no rows without being the vendor's positive
// "no usage" (an Empty report, or exception 3030). Its error is for the
// store and ctx.
func parseRaw(ctx context.Context, src Source, side bibstat.Sidecar, pw *schemas.ParquetWriter) (why string, err error) {
	rc, err := src.Get(ctx, side.Key)
	if err != nil {
		return "", fmt.Errorf("parse %s: %w", side.Key, err)
	}
	defer rc.Close()
	// A failed write (the disk) stops the load; a failed read is the object's.
	var werr error
	doc, err := counter.Read(ctx, rc, counter.Options{Name: side.Key, SourceKey: side.Key}, func(rec arrow.RecordBatch) error {
		if err := pw.Write(rec); err != nil {
			werr = err
			return err
		}
		return nil
	})
	switch {
	case ctx.Err() != nil:
		return "", ctx.Err()
	case werr != nil:
		return "", fmt.Errorf("parse %s: %w", side.Key, werr)
	case err != nil:
		return err.Error(), nil
	case doc.Rows > 0 || doc.Empty || hasCode(doc.Exceptions, 3030):
		return "", nil
	case doc.Skipped > 0:
		return fmt.Sprintf("%s: no usage: all %d values were set aside", side.Key, doc.Skipped), nil
	}
	return fmt.Sprintf("%s: no usage rows, and not the vendor's \"no usage\" (an empty report or 3030)", side.Key), nil
}

func hasCode(excs []counter.Exception, code int) bool {
	for _, e := range excs {
		if e.Code == code {
			return true
		}
	}
	return false
}

// sqlList writes paths as a DuckDB list literal.
func sqlList(paths []string) string {
	quoted := make([]string, len(paths))
	for i, p := range paths {
		quoted[i] = "'" + strings.ReplaceAll(p, "'", "''") + "'"
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}
