package upload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/schemas"
)

// Change is what a dry run finds one unit's facts would become.
type Change struct {
	Unit    string // the unit's key prefix
	Library bibstat.LibraryID
	Month   bibstat.Month
	Report  string
	Restate bool             // the unit has facts from an earlier upload, which the file supersedes
	Old     map[string]int64 // metric → count the unit has now; nil when it is new
	New     map[string]int64 // metric → count the file gives it; empty for a zero unit
	OldFile string           // the upload the unit's facts now come from
}

// OldTotal and NewTotal add up a change's counts over its metrics.
func (c Change) OldTotal() int64 { return sumOf(c.Old) }
func (c Change) NewTotal() int64 { return sumOf(c.New) }

func sumOf(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// plan says, for every unit a file of status st would write, what the
// unit holds now (its newest loadable upload, as the warehouse picks it)
// and what it would hold: so an operator sees an upload that would turn
// months of usage into zero before it happens.
func (in *Ingester) plan(ctx context.Context, vendor string, units *unitSet, st Status) ([]Change, error) {
	var out []Change
	for _, id := range units.written(st) {
		c := Change{Unit: id.dir(vendor), Library: id.lib, Month: id.month, Report: id.report,
			New: maps.Clone(units.byID[id].tot)}
		if c.New == nil {
			c.New = map[string]int64{}
		}
		side, ok, err := in.current(ctx, c.Unit)
		if err != nil {
			return out, err
		}
		if ok {
			c.Restate, c.OldFile = true, side.Key
			if side.Upload != nil {
				c.OldFile = side.Upload.File
			}
			if c.Old, err = in.loadedTotals(ctx, side); err != nil {
				return out, err
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// current is the newest loadable sidecar under a unit's prefix: the one
// whose facts the warehouse holds. Keys sort by upload time within a unit.
func (in *Ingester) current(ctx context.Context, prefix string) (bibstat.Sidecar, bool, error) {
	keys, err := in.Store.List(ctx, prefix)
	if err != nil {
		return bibstat.Sidecar{}, false, fmt.Errorf("list %s: %w", prefix, err)
	}
	var best bibstat.Sidecar
	found := false
	for _, k := range keys {
		if !bibstat.IsSidecar(k) || strings.Contains(strings.TrimPrefix(k, prefix), "/") {
			continue
		}
		s, err := getSidecar(ctx, in.Store, k)
		if err != nil {
			return bibstat.Sidecar{}, false, err
		}
		if s.Loadable() && (!found || best.Key < s.Key) {
			best, found = s, true
		}
	}
	return best, found, nil
}

// loadedTotals sums a unit's stored parsed rows by metric.
func (in *Ingester) loadedTotals(ctx context.Context, side bibstat.Sidecar) (map[string]int64, error) {
	out := map[string]int64{}
	if side.ParsedKey == "" {
		return out, nil
	}
	rc, err := in.Store.Get(ctx, side.ParsedKey)
	if errors.Is(err, bibstat.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", side.ParsedKey, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, DefaultLimits.MaxFileBytes))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", side.ParsedKey, err)
	}
	return parquetTotals(ctx, data)
}

// parquetTotals sums the counts of a parsed Parquet file by metric.
func parquetTotals(ctx context.Context, data []byte) (map[string]int64, error) {
	tbl, err := pqarrow.ReadTable(ctx, bytes.NewReader(data), nil, pqarrow.ArrowReadProperties{}, memory.NewGoAllocator())
	if err != nil {
		return nil, fmt.Errorf("read parsed rows: %w", err)
	}
	defer tbl.Release()
	tr := array.NewTableReader(tbl, 4096)
	defer tr.Release()
	out := map[string]int64{}
	var row schemas.Row
	for tr.Next() {
		rec := tr.RecordBatch()
		for i := range int(rec.NumRows()) {
			row.SetFrom(rec, i)
			out[row.MetricType] += row.Count
		}
	}
	return out, tr.Err()
}
