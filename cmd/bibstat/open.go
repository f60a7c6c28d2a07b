package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/bibliotek24/bibstat/ingest/sushi"
	"github.com/bibliotek24/bibstat/internal/config"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/transform"
)

// openStore opens the object store: the local directory dir when given
// (a command's --archive), else the config's store, S3 with its secrets
// resolved or a local directory read from the config's folder.
func openStore(ctx context.Context, cfg *config.Loaded, dir string) (store.Store, error) {
	if dir != "" {
		return openLocal(ctx, dir)
	}
	s := cfg.Store
	if s.Kind != "s3" {
		return openLocal(ctx, cfg.Path(s.Dir))
	}
	ak, err := s.AccessKeyID.Resolve()
	if err != nil {
		return nil, fmt.Errorf("store: access_key_id: %w", err)
	}
	sk, err := s.SecretAccessKey.Resolve()
	if err != nil {
		return nil, fmt.Errorf("store: secret_access_key: %w", err)
	}
	return store.NewS3(ctx, store.S3Config{Endpoint: s.Endpoint, Region: s.Region, Bucket: s.Bucket, Prefix: s.Prefix,
		PathStyle: s.PathStyle, AccessKeyID: ak, SecretAccessKey: sk, Timeout: s.Timeout.D()})
}

// staleTempAge is how old a temporary file must be before it is taken for
// one a killed writer left behind rather than one being written now.
const staleTempAge = time.Hour

// openLocal opens a local store and removes what killed writers left in it.
func openLocal(ctx context.Context, dir string) (*store.Local, error) {
	st, err := store.NewLocal(dir)
	if err != nil {
		return nil, err
	}
	if _, err := st.RemoveStaleTemp(ctx, staleTempAge); err != nil {
		return nil, err
	}
	return st, nil
}

// warehouseOptions are the config's DuckDB settings as transform.Open
// takes them, the spill directory read from the config's folder.
func warehouseOptions(cfg *config.Loaded) transform.Options {
	w := cfg.Warehouse
	// Never nil: a config without preferences or counting sources clears the warehouse's.
	prefer, count := map[string]string{}, map[string]string{}
	for _, p := range cfg.Platforms {
		if p.PreferSource != "" {
			prefer[p.ID] = p.PreferSource
		}
		if p.CountSource != "" {
			count[p.ID] = p.CountSource
		}
	}
	return transform.Options{MemoryLimit: w.MemoryLimit, Threads: w.Threads, TempDir: cfg.Path(w.TempDirectory),
		PreferSource: prefer, CountSource: count}
}

// openWarehouse opens the warehouse at path with opts. Its folder must
// exist (warehouseDir); when existing, a missing file is an error saying
// how to make one, never a new empty warehouse; when st is given, a
// warehouse an older BibStat wrote is rebuilt from that archive first.
func openWarehouse(ctx context.Context, e *env, path string, opts transform.Options, existing bool, st transform.Source) (*transform.Warehouse, error) {
	if err := warehouseDir(path, false); err != nil {
		return nil, err
	}
	if existing {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no warehouse at %s (%w): run 'bibstat transform' to build it from the archive, or 'bibstat demo' to try BibStat", path, err)
		}
	}
	wh, err := transform.Open(ctx, path, opts, e.log)
	if errors.Is(err, transform.ErrSchemaMismatch) && st != nil {
		e.log.Warn("warehouse written by another version; rebuilding it from the archive", "path", path)
		if _, err := transform.Rebuild(ctx, path, opts, st, e.log); err != nil {
			return nil, err
		}
		wh, err = transform.Open(ctx, path, opts, e.log)
	}
	return wh, err
}

// warehouseDir checks that the folder of the warehouse file path exists,
// or with create makes it: a mistyped path must not quietly grow a new
// tree of folders and an empty warehouse.
func warehouseDir(path string, create bool) error {
	dir := filepath.Dir(path)
	if create {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("warehouse %s: %w", path, err)
		}
		return nil
	}
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		return fmt.Errorf("warehouse %s: its folder %s does not exist (%w); create it, or give --create", path, dir, err)
	case !fi.IsDir():
		return fmt.Errorf("warehouse %s: %s is not a folder", path, dir)
	}
	return nil
}

// notLoadedError is DuckDB's missing-table error from a warehouse that was
// created but never loaded, told as what to run next.
type notLoadedError struct{ err error }

func (e *notLoadedError) Error() string {
	return "the warehouse holds no usage yet: run 'bibstat harvest --once' (or 'bibstat ingest FILE') and then " +
		"'bibstat transform', or 'bibstat demo' to try BibStat"
}

func (e *notLoadedError) Unwrap() error { return e.err }

// whatNext is the one place a command's error on an empty or fresh
// warehouse becomes one sentence saying what to run next; every other
// error passes through unchanged.
func whatNext(err error) error {
	var nl *notLoadedError
	if err == nil || errors.As(err, &nl) || !transform.IsMissingTable(err) {
		return err
	}
	return &notLoadedError{err: err}
}

// loadConfig is config.Load, a missing file told as what to do.
func loadConfig(path string) (*config.Loaded, error) {
	cfg, err := config.Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no configuration file %s (%w): give --config FILE (config.example.yaml documents every key), or run 'bibstat demo' to try BibStat", path, err)
	}
	return cfg, err
}

// holdsUsage reports whether the warehouse has loaded any unit; one that
// was created but never loaded has no marts for the portal or the site.
func holdsUsage(ctx context.Context, db *sql.DB) bool {
	var n int64
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM loaded_units`).Scan(&n)
	return err == nil && n > 0
}

// sushiClient is the harvest's SUSHI client with the config's timeout and user agent.
func sushiClient(cfg *config.Loaded) *sushi.Client {
	return &sushi.Client{HTTP: &http.Client{Timeout: cfg.Harvest.Timeout.D()}, UserAgent: cfg.Harvest.UserAgent}
}
