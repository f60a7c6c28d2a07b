package transform

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/duckdb/duckdb-go/v2" // also registers the "duckdb" driver

	"github.com/bibliotek24/bibstat/schemas"
)

// SchemaVersion numbers the warehouse layout. A warehouse written with
// another version is never read: it is rebuilt from the raw archive.
var SchemaVersion = "8." + strconv.Itoa(schemas.Version)

// ErrSchemaMismatch: the warehouse file was written by another version of BibStat.
var ErrSchemaMismatch = errors.New("warehouse schema version mismatch")

// Options tune DuckDB; zero values leave DuckDB's defaults.
type Options struct {
	MemoryLimit string // e.g. "4GB"
	Threads     int
	TempDir     string
	// PreferSource is each platform's preferred source (config
	// platforms[].prefer_source: "sushi", "upload" or "upload/VENDOR"), the
	// second step of the rule of choice. nil leaves the warehouse's
	// recorded preferences as they are.
	PreferSource map[string]string
	// CountSource is each platform's class of source that counts (config
	// platforms[].count_source: "counter" or "access-log"), the first step
	// of the rule of choice; a platform not in it counts "counter". nil
	// leaves the warehouse's recorded choices as they are.
	CountSource map[string]string
}

// Warehouse is an open DuckDB warehouse file.
type Warehouse struct {
	DB   *sql.DB
	Path string
	log  *slog.Logger
	// prefer is Options.PreferSource, written by every Refresh.
	prefer map[string]string
	// count is Options.CountSource, written by every Refresh.
	count map[string]string
}

// Open opens (creating if needed) the warehouse at path. A file of another
// schema version is an error wrapping ErrSchemaMismatch that names the
// command to run.
func Open(ctx context.Context, path string, opts Options, log *slog.Logger) (*Warehouse, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open warehouse: %w", err)
	}
	q := url.Values{}
	if opts.MemoryLimit != "" {
		q.Set("memory_limit", opts.MemoryLimit)
	}
	if opts.Threads > 0 {
		q.Set("threads", strconv.Itoa(opts.Threads))
	}
	if opts.TempDir != "" {
		q.Set("temp_directory", opts.TempDir)
	}
	dsn := path
	if len(q) > 0 {
		dsn += "?" + q.Encode()
	}
	db, err := sql.Open("duckdb", dsn)
	if err != nil {
		return nil, fmt.Errorf("open warehouse %s: %w", path, err)
	}
	// Facts need no insertion order (every mart groups or sorts), and
	// without it DuckDB loads in parallel with less memory. The files
	// DuckDB reads (a load's copies of stored rows, its load map) are read
	// once and removed: its external file cache would keep every chunk's
	// copies in memory (a 10M-row rebuild peaked at 3.5 GB with it, 0.55
	// GB without) and spend CPU filling it.
	for _, set := range []string{`SET GLOBAL preserve_insertion_order = false`, `SET GLOBAL enable_external_file_cache = false`} {
		if _, err := db.ExecContext(ctx, set); err != nil {
			db.Close()
			return nil, fmt.Errorf("open warehouse %s: %w", path, err)
		}
	}
	w := &Warehouse{DB: db, Path: path, log: log, prefer: opts.PreferSource, count: opts.CountSource}
	if err := w.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return w, nil
}

// Close closes the database.
func (w *Warehouse) Close() error { return w.DB.Close() }

func (w *Warehouse) migrate(ctx context.Context) error {
	var have string
	err := w.DB.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&have)
	switch {
	case err == nil && have != SchemaVersion:
		return fmt.Errorf("%s has schema %s, this bibstat writes %s: %w; run 'bibstat transform --rebuild' to rebuild it from the raw archive",
			w.Path, have, SchemaVersion, ErrSchemaMismatch)
	case err == nil:
		return w.ensureViews(ctx)
	case !IsMissingTable(err) && !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("open warehouse %s: %w", w.Path, err)
	}
	ddl, err := schemas.SQL("warehouse.sql")
	if err != nil {
		return err
	}
	ddl = strings.NewReplacer("{{FACTS_COLUMNS}}", schemas.FactsColumns(), "{{HEAD_COLUMNS}}", schemas.HeadColumnDefs(),
		"{{ITEM_COLUMNS}}", schemas.ItemColumnDefs(), "{{ROW_COLUMNS}}", schemas.RowColumnDefs(),
		"{{FACTS_VIEW_SELECT}}", schemas.FactsViewSelect(), "{{HEADS_VIEW_COLUMNS}}", schemas.HeadsViewColumns()).Replace(ddl)
	tx, err := w.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create warehouse: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("create warehouse: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create warehouse: %w", err)
	}
	if err := w.putGeography(ctx); err != nil {
		return err
	}
	// The version is written last: a warehouse is complete only with its
	// geography, and a crash before this line makes the next Open create
	// (idempotently) again rather than trust a warehouse without it.
	if _, err := w.DB.ExecContext(ctx, `INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)`, SchemaVersion); err != nil {
		return fmt.Errorf("create warehouse: %w", err)
	}
	return nil
}

// IsMissingTable reports whether err is DuckDB saying a table (or view)
// the query names does not exist: a catalog error, told by the driver's
// error type, never by its message. Readers of an older or partial
// warehouse use it to fall back to what that warehouse has.
func IsMissingTable(err error) bool {
	var de *duckdb.Error
	return errors.As(err, &de) && de.Type == duckdb.ErrorTypeCatalog
}
