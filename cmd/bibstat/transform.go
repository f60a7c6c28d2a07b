package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/cli"
	"github.com/bibliotek24/bibstat/internal/config"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/transform"
)

// transformOptions is what `bibstat transform` does.
type transformOptions struct {
	config, archive, warehouse     string
	memoryLimit, tempDir           string
	threads                        int
	rebuild, export, create        bool
	libraries, institutions, pools string
}

func transformCommand() command {
	return command{name: "transform", summary: "load the raw archive into the warehouse, refresh the marts, export Parquet",
		run: func(ctx context.Context, e *env, args []string) error {
			var o transformOptions
			fs := cli.NewFlags(e.stdout, "transform", "", "Loads every unit whose newest harvest is not yet in the warehouse (a newer harvest\n"+
				"replaces the older one's facts) and refreshes the marts. --rebuild builds the whole\n"+
				"warehouse anew from the archive alone and swaps it in when complete. A warehouse\n"+
				"written by another BibStat version is rebuilt, never read.")
			fs.StringVar(&o.config, "config", "", "the configuration `file` (store, warehouse path and DuckDB limits); default: built-in defaults in the working directory")
			fs.StringVar(&o.archive, "archive", "", "the object store `dir`ectory (overrides the config's store)")
			fs.StringVar(&o.warehouse, "warehouse", "", "the warehouse `file` (default the config's, else warehouse.duckdb)")
			fs.StringVar(&o.memoryLimit, "memory-limit", "", "DuckDB memory_limit, e.g. 6GB (overrides the config)")
			fs.IntVar(&o.threads, "threads", 0, "DuckDB threads (overrides the config)")
			fs.StringVar(&o.tempDir, "temp-dir", "", "DuckDB temp_directory for spilling (overrides the config)")
			fs.BoolVar(&o.rebuild, "rebuild", false, "rebuild every table from the archive alone")
			fs.BoolVar(&o.create, "create", false, "create the warehouse's folder when it does not exist")
			fs.BoolVar(&o.export, "export", false, "write the marts as Hive-partitioned Parquet under curated/ in the store")
			fs.StringVar(&o.libraries, "libraries", "", "archive this library register `file` first (BaseBibliotek .xml or .csv)")
			fs.StringVar(&o.institutions, "institutions", "", "archive this institution mapping CSV `file` first")
			fs.StringVar(&o.pools, "pools", "", "archive this usage-pool CSV `file` first")
			if err := cli.Parse(fs, args); err != nil {
				return err
			}
			if fs.NArg() > 0 {
				return &cli.UsageError{Msg: "transform: takes no arguments (run 'bibstat transform --help')"}
			}
			return runTransform(ctx, e, o)
		}}
}

func runTransform(ctx context.Context, e *env, o transformOptions) error {
	cfg, err := config.Load(o.config)
	if err != nil {
		return err
	}
	path := cmp.Or(o.warehouse, cfg.Path(cfg.Warehouse.Path))
	opts := warehouseOptions(cfg)
	opts.MemoryLimit = cmp.Or(o.memoryLimit, opts.MemoryLimit)
	if o.threads > 0 {
		opts.Threads = o.threads
	}
	opts.TempDir = cmp.Or(o.tempDir, opts.TempDir)
	if err := warehouseDir(path, o.create); err != nil {
		return err
	}
	if dir := cmp.Or(o.archive, cfg.Path(cfg.Store.Dir)); o.rebuild && (o.archive != "" || cfg.Store.Kind != "s3") {
		// A mistyped archive would be created empty, and the warehouse rebuilt from nothing.
		if _, err := os.Stat(dir); err != nil {
			return fmt.Errorf("transform --rebuild: no archive at %s (%w): a rebuild from it would empty the warehouse; check --archive or the config's store.dir", dir, err)
		}
	}
	st, err := openStore(ctx, cfg, o.archive)
	if err != nil {
		return err
	}
	// Register files go into the store first: a rebuild reads nothing else.
	if err := archiveRegisters(ctx, st, o); err != nil {
		return err
	}
	start := time.Now()
	sum, rebuilt, err := loadWarehouse(ctx, e, path, opts, st, o.rebuild)
	if err != nil {
		return err
	}
	// The agreement registry is derived from its imports in the store too.
	if err := syncAgreementsAt(ctx, e, path, opts, st); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "warehouse=%s\nrebuilt=%t\nunits=%d\nloaded=%d\nunchanged=%d\nrows=%d\nload_failed=%d\nseconds=%.3f\n",
		path, rebuilt, sum.Units, sum.Loaded, sum.Unchanged, sum.Rows, len(sum.Failed), time.Since(start).Seconds())
	// A harvest that no longer reads keeps its unit's facts; the operator
	// must still hear of it, by object and reason.
	for _, f := range sum.Failed {
		fmt.Fprintf(e.stderr, "transform: not loaded: %s: %s\n", f.Key, f.Reason)
	}
	if !o.export {
		return nil
	}
	w, err := openWarehouse(ctx, e, path, opts, true, nil)
	if err != nil {
		return err
	}
	defer w.Close()
	ex, err := w.Export(ctx, st)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "exported_tables=%d\nexported_files=%d\nexported_rows=%d\n", ex.Tables, ex.Files, ex.Rows)
	return nil
}

// archiveRegisters puts the register files named on the command line
// into the store under their register keys.
func archiveRegisters(ctx context.Context, st store.Store, o transformOptions) error {
	for key, file := range map[string]string{registerKey(o.libraries): o.libraries,
		bibstat.InstitutionsKey: o.institutions, bibstat.PoolsKey: o.pools} {
		if file == "" {
			continue
		}
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("transform: %w", err)
		}
		err = st.Put(ctx, key, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("transform: archive %s: %w", file, err)
		}
	}
	return nil
}

// loadWarehouse updates the warehouse from st, or rebuilds it when asked
// or when another version wrote it; it reports whether it rebuilt.
func loadWarehouse(ctx context.Context, e *env, path string, opts transform.Options, st store.Store, rebuild bool) (transform.LoadSummary, bool, error) {
	if !rebuild {
		w, err := openWarehouse(ctx, e, path, opts, false, nil)
		switch {
		case errors.Is(err, transform.ErrSchemaMismatch):
			e.log.Warn("warehouse written by another version; rebuilding it from the archive", "path", path, "err", err)
		case err != nil:
			return transform.LoadSummary{}, false, err
		default:
			sum, err := w.Update(ctx, st)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			return sum, false, err
		}
	}
	sum, err := transform.Rebuild(ctx, path, opts, st, e.log)
	return sum, true, err
}

// registerKey is where a library register file goes, by its extension.
func registerKey(file string) string {
	if strings.EqualFold(filepath.Ext(file), ".xml") {
		return bibstat.LibrariesXMLKey
	}
	return bibstat.LibrariesCSVKey
}
