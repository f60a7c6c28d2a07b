package transform

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"
)

// Rebuild builds the warehouse at path anew from src alone: the register
// files and the raw archive. It builds into path+".rebuild" and renames that
// over path only once it is complete, so a crash leaves the old warehouse,
// never half a new one. Nothing may have path open meanwhile.
func Rebuild(ctx context.Context, path string, opts Options, src Source, log *slog.Logger) (LoadSummary, error) {
	tmp := path + ".rebuild"
	if err := removeDB(tmp); err != nil {
		return LoadSummary{}, err
	}
	w, err := Open(ctx, tmp, opts, log)
	if err != nil {
		return LoadSummary{}, err
	}
	sum, err := build(ctx, w, src)
	if cerr := w.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("rebuild: close: %w", cerr)
	}
	if err != nil {
		removeDB(tmp)
		return sum, err
	}
	// A write-ahead log left beside the old file would be replayed into
	// the new one: it goes first. Close checkpointed the new file, so it
	// has none.
	if err := os.Remove(path + ".wal"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return sum, fmt.Errorf("rebuild: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return sum, fmt.Errorf("rebuild: %w", err)
	}
	log.Info("warehouse rebuilt", "path", path, "units", sum.Units, "rows", sum.Rows)
	return sum, nil
}

func build(ctx context.Context, w *Warehouse, src Source) (LoadSummary, error) {
	if _, err := w.ImportRegister(ctx, src); err != nil {
		return LoadSummary{}, err
	}
	sum, err := w.Load(ctx, src)
	if err != nil {
		return sum, err
	}
	if sum.Loaded == 0 { // Load refreshed only if it loaded something
		start := time.Now()
		if err := w.Refresh(ctx); err != nil {
			return sum, err
		}
		sum.Marts = time.Since(start)
	}
	if _, err := w.DB.ExecContext(ctx, `CHECKPOINT`); err != nil {
		return sum, fmt.Errorf("rebuild: checkpoint: %w", err)
	}
	return sum, nil
}

// Update brings an open warehouse up to date with src: the register files,
// then every unit with a newer harvest. The marts are refreshed once.
func (w *Warehouse) Update(ctx context.Context, src Source) (LoadSummary, error) {
	imported, err := w.ImportRegister(ctx, src)
	if err != nil {
		return LoadSummary{}, err
	}
	sum, err := w.Load(ctx, src)
	if err != nil {
		return sum, err
	}
	if imported && sum.Loaded == 0 {
		start := time.Now()
		err = w.Refresh(ctx)
		sum.Marts = time.Since(start)
	}
	return sum, err
}

func removeDB(path string) error {
	for _, p := range []string{path, path + ".wal"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", p, err)
		}
	}
	return nil
}
