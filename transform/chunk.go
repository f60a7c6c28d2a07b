package transform

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/schemas"
)

// loadChunk replaces the facts of a chunk of units in one transaction.
// reloads says whether any unit of the chunk has facts already: only then
// must old facts be found and deleted, a scan a first load can skip.
// The harvests that do not read are left out and returned, by chunk index,
// with why.
//
// Rows go into DuckDB while they are parsed, so which harvests do not read
// is known only once they are in: a chunk with such a harvest is rolled
// back and loaded again without them (rarely: the harvest's sidecar said
// it reads), never committed with part of a harvest or with the old facts
// of a unit whose new harvest fails. The first attempt's parse is the
// one run began (parseChunks); each further attempt parses anew.
func (w *Warehouse) loadChunk(ctx context.Context, src Source, tmp string, run chunkRun, reloads bool, arrived map[string]time.Time) (int64, map[int]string, error) {
	defer run.files.remove()
	if run.err != nil {
		return 0, nil, run.err
	}
	bad := map[int]string{}
	parse := run.parse
	for attempt := 1; ; attempt++ {
		if len(bad) == len(run.chunk) {
			return 0, bad, nil
		}
		if parse == nil {
			parse = startParse(ctx, src, run.chunk, run.files, bad, streamBuffer)
		}
		n, more, err := w.loadAttempt(ctx, tmp, run.chunk, bad, run.files, parse, reloads, arrived)
		if err != nil || len(more) == 0 {
			return n, bad, err
		}
		w.log.Debug("load chunk again, without the harvests that do not read", "attempt", attempt, "not_read", len(more))
		maps.Copy(bad, more)
		parse = nil
	}
}

// loadAttempt loads the chunk's units but those in bad, parsed by p, and
// commits unless a harvest of them turns out not to read: then it rolls
// back and gives those harvests, with why. The parse ends with it.
func (w *Warehouse) loadAttempt(ctx context.Context, tmp string, chunk []bibstat.Sidecar, bad map[int]string, files chunkFiles, p *parsing, reloads bool, arrived map[string]time.Time) (int64, map[int]string, error) {
	start := time.Now()
	defer func() {
		p.cancel() // a parse the attempt gave up on stops,
		p.wait()   // and none outlives it
		w.log.Debug("load chunk", "units", len(chunk), "rows_parsed", p.rows.Load(), "parse", p.took, "took", time.Since(start))
	}()
	conn, err := w.DB.Conn(ctx)
	if err != nil {
		p.stream.Release()
		return 0, nil, fmt.Errorf("load: %w", err)
	}
	defer conn.Close()
	drop, err := RegisterRecords(ctx, conn, tmp, "parsed_rows", p.stream)
	if err != nil {
		p.cancel()
		if _, perr := p.wait(); perr != nil {
			return 0, nil, perr
		}
		return 0, nil, fmt.Errorf("load: %w", err)
	}
	defer drop()

	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("load: %w", err)
	}
	defer tx.Rollback()
	n, err := insertFacts(ctx, tx, tmp, chunk, bad, files, reloads, arrived)
	if err != nil {
		p.cancel()
	}
	more, perr := p.wait()
	switch {
	case perr != nil && (err == nil || !errors.Is(perr, context.Canceled)):
		return 0, nil, perr // the store's, or ctx's: DuckDB's error only says the stream failed
	case err != nil:
		return 0, nil, err
	case len(more) > 0:
		return 0, more, nil
	}
	if err := tx.Commit(); err != nil {
		return 0, nil, fmt.Errorf("load: commit: %w", err)
	}
	return n, nil, nil
}

// A chunkRun is a chunk's units, the copies of their stored rows and the
// parse of its first attempt, under way; or why the copies failed.
type chunkRun struct {
	chunk []bibstat.Sidecar
	files chunkFiles
	parse *parsing
	err   error
}

// discard ends a run that is not loaded: its parse stops, and its copies
// and what it parsed are let go.
func (r chunkRun) discard() {
	if r.parse != nil {
		r.parse.cancel()
		r.parse.wait()
		r.parse.stream.Release()
	}
	r.files.remove()
}

// parseChunks starts the chunks' parses one after another, in order, and
// hands out each as a chunkRun: a chunk's parse starts when the one before
// it ends, so the next chunk is parsed while DuckDB stores the last one's
// rows instead of after (the cores would idle). stop ends what is under
// way and discards what was not handed out.
func parseChunks(ctx context.Context, src Source, tmp string, chunks [][]bibstat.Sidecar) (runs <-chan chunkRun, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	out := make(chan chunkRun)
	go func() {
		defer close(out)
		for _, chunk := range chunks {
			run := chunkRun{chunk: chunk}
			if run.files, run.err = copyAll(ctx, src, tmp, chunk); run.err == nil {
				run.parse = startParse(ctx, src, chunk, run.files, nil, streamBuffer)
			}
			select {
			case out <- run:
			case <-ctx.Done():
				run.discard()
				return
			}
			if run.err != nil {
				return
			}
			select {
			case <-run.parse.done:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, func() {
		cancel()
		for run := range out {
			run.discard()
		}
	}
}

// insertFacts replaces the facts of the chunk's units but those in bad
// with the rows of their copies in files and those of the view
// parsed_rows (of factsSchema), and records the units as loaded.
func insertFacts(ctx context.Context, tx *sql.Tx, tmp string, chunk []bibstat.Sidecar, bad map[int]string, files chunkFiles, reloads bool, arrived map[string]time.Time) (int64, error) {
	if err := putLoadMap(ctx, tx, tmp, chunk, bad, files, arrived); err != nil {
		return 0, err
	}
	if err := putUnits(ctx, tx); err != nil {
		return 0, err
	}
	if reloads {
		// The superseded facts' sums are the unit's rows of agg_usage:
		// dirty_units below names them, no scan of the facts needed.
		if err := deleteFacts(ctx, tx); err != nil {
			return 0, err
		}
	}
	// The stream can be read once and insertNarrow reads its rows twice:
	// they are staged in a temporary table first.
	rels := []string{"parsed_staged"}
	if _, err := tx.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE parsed_staged AS SELECT * FROM parsed_rows`); err != nil {
		return 0, fmt.Errorf("load: insert facts: %w", err)
	}
	defer tx.ExecContext(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS parsed_staged`)
	if copied := files.copied(); len(copied) > 0 {
		rels = append(rels, `(SELECT f.* EXCLUDE (filename), m.unit_key, m.library_id
			FROM read_parquet(`+sqlList(copied)+`, filename = true`+unionByName(chunk, files)+`) f JOIN load_map m ON f.filename = m.file)`)
	}
	var n int64
	for _, rel := range rels {
		rows, err := insertNarrow(ctx, tx, rel)
		if err != nil {
			return 0, err
		}
		n += rows
	}
	// Refresh sums these units' facts again, and finds the (month,
	// platform) they cover, before and after, from agg_usage.
	if _, err := tx.ExecContext(ctx, `INSERT INTO dirty_units SELECT DISTINCT unit_key FROM load_map`); err != nil {
		return 0, fmt.Errorf("load: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO loaded_units
		SELECT unit_key, raw_key, parsed_key, library_id, platform, report_id, month, state, rows, release, source, harvested_at FROM load_map`); err != nil {
		return 0, fmt.Errorf("load: record units: %w", err)
	}
	return n, nil
}

// unionByName is read_parquet's option to read the chunk's copies by the
// union of their columns, when some copy is of another parser version (an
// access-log unit's, copied whatever its version) and may lack a column.
// Copies of this version all have the Usage columns, and read_parquet
// then takes each file's by name after the first's, and fails on a file
// without one; the union reads every file's schema first, a third of the
// reading of a chunk of small copies.
func unionByName(chunk []bibstat.Sidecar, files chunkFiles) string {
	for i, f := range files.perUnit {
		if f != "" && chunk[i].ParserVersion != schemas.Version {
			return ", union_by_name = true"
		}
	}
	return ""
}

// sqlList writes paths as a DuckDB list literal.
func sqlList(paths []string) string {
	quoted := make([]string, len(paths))
	for i, p := range paths {
		quoted[i] = "'" + strings.ReplaceAll(p, "'", "''") + "'"
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}
