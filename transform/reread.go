package transform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/counter"
	"github.com/bibliotek24/bibstat/mapping"
	"github.com/bibliotek24/bibstat/schemas"
)

// rereadUpload reads one upload unit's rows again from the uploaded file's
// raw bytes, as parseRaw reads a harvest's: through this binary's COUNTER
// reader, or through the mapping archived with the upload (its bytes as
// they were, whatever the vendor's mapping says now). So a reader fix
// reaches uploaded files too, not only harvests. A file holds many units
// (library × month); the unit's are the rows of its library and month,
// and they carry the unit's key as source_key, which is how the load finds
// their unit. why and err mean what they mean for parseRaw.
//
// Each unit reads its whole file: a rebuild after a reader change reads a
// file once per unit it fills. Uploads are vendor exports of a few
// thousand rows, and this happens only when the reader changed.
func rereadUpload(ctx context.Context, src Source, side bibstat.Sidecar, pw *schemas.ParquetWriter) (why string, err error) {
	up := side.Upload
	mon, err := bibstat.ParseMonth(side.Month)
	if err != nil {
		return fmt.Sprintf("%s: sidecar month %q: %v", side.Key, side.Month, err), nil
	}
	// An object that is gone makes the unit unreadable, as a file that does
	// not read; the store failing otherwise stops the load.
	var data, yaml []byte
	for _, o := range []struct {
		key   string
		limit int64
		to    *[]byte
	}{{up.File, mapping.DefaultLimits.MaxFileBytes, &data}, {up.Mapping, mapping.MaxMappingBytes, &yaml}} {
		if o.key == "" {
			continue
		}
		*o.to, err = getBounded(ctx, src, o.key, o.limit)
		if errors.Is(err, bibstat.ErrNotFound) {
			return fmt.Sprintf("%s: %s is not in the archive", side.Key, o.key), nil
		}
		if err != nil {
			return "", fmt.Errorf("re-read upload %s: %w", side.Key, err)
		}
	}
	// Rows are written through a batcher of their own; a failed write (the
	// disk) stops the load, a file that does not read is the unit's.
	var werr error
	bt := schemas.NewBatcher(memory.NewGoAllocator(), 0, func(rec arrow.RecordBatch) error {
		defer rec.Release()
		if err := pw.Write(rec); err != nil {
			werr = err
			return err
		}
		return nil
	})
	defer bt.Release()
	var rows int64
	keep := func(r *schemas.Row) error {
		r.SourceKey = side.Key
		rows++
		return bt.Add(r)
	}
	if up.Mapping == "" {
		err = rereadCounter(ctx, data, side, mon, keep)
	} else {
		err = rereadMapped(ctx, data, yaml, side, mon, keep)
	}
	if err == nil {
		err = bt.Flush()
	}
	switch {
	case ctx.Err() != nil:
		return "", ctx.Err()
	case werr != nil:
		return "", fmt.Errorf("re-read upload %s: %w", side.Key, werr)
	case err != nil:
		return fmt.Sprintf("%s: %v", side.Key, err), nil
	case rows == 0 && side.State != bibstat.StateZero:
		return fmt.Sprintf("%s: the file %s now reads to no rows for this unit, which it had", side.Key, up.File), nil
	}
	return "", nil
}

// rereadCounter reads an uploaded COUNTER report; every row is the file's
// library's, so the unit's are those of its month.
func rereadCounter(ctx context.Context, data []byte, side bibstat.Sidecar, mon bibstat.Month, keep func(*schemas.Row) error) error {
	opts := counter.Options{Name: side.Upload.Name, SourceKey: side.Key, AcceptPartial: side.State == bibstat.StatePartial}
	var row schemas.Row
	_, err := counter.Read(ctx, bytes.NewReader(data), opts, func(rec arrow.RecordBatch) error {
		defer rec.Release()
		for i := range int(rec.NumRows()) {
			row.SetFrom(rec, i)
			if bibstat.MonthOf(row.Month) != mon {
				continue
			}
			if err := keep(&row); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

// rereadMapped reads an uploaded vendor file through its archived mapping.
func rereadMapped(ctx context.Context, data, yaml []byte, side bibstat.Sidecar, mon bibstat.Month, keep func(*schemas.Row) error) error {
	m, err := mapping.Parse(bytes.NewReader(yaml), side.Upload.Mapping)
	if err != nil {
		return err
	}
	// A mapping without a library column read the file for the library
	// the upload named, which is the unit's.
	opts := mapping.ReadOptions{Name: side.Upload.Name, SourceKey: side.Key, Library: side.Library}
	_, err = m.ReadRows(ctx, data, opts, func(lib bibstat.LibraryID, rm bibstat.Month, r *schemas.Row) error {
		if r == nil || lib != side.Library || rm != mon {
			return nil
		}
		return keep(r)
	})
	return err
}

// getBounded reads key whole, refusing one over limit bytes.
func getBounded(ctx context.Context, src Source, key string, limit int64) ([]byte, error) {
	rc, err := src.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("read %s: larger than %d bytes", key, limit)
	}
	return b, nil
}
