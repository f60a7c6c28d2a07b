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

// rereads reads uploads again from their raw files for one chunk of units,
// as parseRaw reads harvests: through this binary's COUNTER reader, or
// through the mapping archived with the upload (its bytes as they were,
// whatever the vendor's mapping says now). So a reader fix reaches
// uploaded files too. A file holds many units (library × month); it is
// read once per chunk, every row going out under its own unit's key
// (source_key), which is how the load finds its unit: rows of units the
// chunk does not load find none and are left out.
type rereads struct {
	files map[string]*reread // by file and mapping key
}

// reread is what reading one file gave: rows written per unit key, or why
// the file does not read.
type reread struct {
	rows map[string]int64
	why  string
}

func newRereads() *rereads { return &rereads{files: map[string]*reread{}} }

// read sends the rows of side's file to emit, unless this chunk did, and
// says why side's unit does not load, if it does not. why and err mean
// what they mean for parseRaw.
func (rr *rereads) read(ctx context.Context, src Source, side bibstat.Sidecar, emit func(arrow.RecordBatch) error) (why string, err error) {
	k := side.Upload.File + "\x00" + side.Upload.Mapping
	f, ok := rr.files[k]
	if !ok {
		if f, err = readUpload(ctx, src, side, emit); err != nil {
			return "", err
		}
		rr.files[k] = f
	}
	switch {
	case f.why != "":
		return side.Key + ": " + f.why, nil
	case f.rows[side.Key] == 0 && side.State != bibstat.StateZero:
		return fmt.Sprintf("%s: the file %s now reads to no rows for this unit, which it had", side.Key, side.Upload.File), nil
	}
	return "", nil
}

// readUpload reads side's file whole into emit, which takes over each batch.
func readUpload(ctx context.Context, src Source, side bibstat.Sidecar, emit func(arrow.RecordBatch) error) (*reread, error) {
	up := side.Upload
	out := &reread{rows: map[string]int64{}}
	// An object that is gone makes the file unreadable; the store failing
	// otherwise stops the load.
	var data, yaml []byte
	for _, o := range []struct {
		key   string
		limit int64
		to    *[]byte
	}{{up.File, mapping.DefaultLimits.MaxFileBytes, &data}, {up.Mapping, mapping.MaxMappingBytes, &yaml}} {
		if o.key == "" {
			continue
		}
		var err error
		*o.to, err = getBounded(ctx, src, o.key, o.limit)
		if errors.Is(err, bibstat.ErrNotFound) {
			out.why = o.key + " is not in the archive"
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("re-read upload %s: %w", side.Key, err)
		}
	}
	// A failed send (the load) stops the load; a file that does not read
	// is its units'.
	var werr error
	bt := schemas.NewBatcher(memory.NewGoAllocator(), 0, func(rec arrow.RecordBatch) error {
		if err := emit(rec); err != nil {
			werr = err
			return err
		}
		return nil
	})
	defer bt.Release()
	keep := func(r *schemas.Row, lib bibstat.LibraryID, m bibstat.Month) error {
		r.SourceKey = bibstat.UploadSiblingKey(side.Key, lib, m)
		out.rows[r.SourceKey]++
		return bt.Add(r)
	}
	var err error
	if up.Mapping == "" {
		err = rereadCounter(ctx, data, side, keep)
	} else {
		err = rereadMapped(ctx, data, yaml, side, keep)
	}
	if err == nil {
		err = bt.Flush()
	}
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case werr != nil:
		return nil, fmt.Errorf("re-read upload %s: %w", side.Key, werr)
	case err != nil:
		out.why = err.Error()
	}
	return out, nil
}

type keepRow func(r *schemas.Row, lib bibstat.LibraryID, m bibstat.Month) error

// rereadCounter reads an uploaded COUNTER report: every row is the
// library's the upload was for, and of its own month's unit.
func rereadCounter(ctx context.Context, data []byte, side bibstat.Sidecar, keep keepRow) error {
	opts := counter.Options{Name: side.Upload.Name, SourceKey: side.Key, AcceptPartial: side.State == bibstat.StatePartial}
	var row schemas.Row
	_, err := counter.Read(ctx, bytes.NewReader(data), opts, func(rec arrow.RecordBatch) error {
		defer rec.Release()
		for i := range int(rec.NumRows()) {
			row.SetFrom(rec, i)
			if err := keep(&row, side.Library, bibstat.MonthOf(row.Month)); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

// rereadMapped reads an uploaded vendor file through its archived mapping.
func rereadMapped(ctx context.Context, data, yaml []byte, side bibstat.Sidecar, keep keepRow) error {
	m, err := mapping.Parse(bytes.NewReader(yaml), side.Upload.Mapping)
	if err != nil {
		return err
	}
	// A mapping without a library column read the file for the library
	// the upload named, which is its units'.
	opts := mapping.ReadOptions{Name: side.Upload.Name, Library: side.Library}
	_, err = m.ReadRows(ctx, data, opts, func(lib bibstat.LibraryID, rm bibstat.Month, r *schemas.Row) error {
		if r == nil {
			return nil // a zero: its unit has no rows
		}
		return keep(r, lib, rm)
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
