package transform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/counter"
	"github.com/bibliotek24/bibstat/schemas"
)

// chunkFiles are a chunk's parsed rows in local files for read_parquet.
type chunkFiles struct {
	perUnit []string // by chunk index: a copy of the unit's stored Parquet, or ""
	parsed  []string // every other unit's rows, parsed into a few files
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
	for _, f := range append(c.copied(), c.parsed...) {
		os.Remove(f)
	}
}

// localParsed gathers a chunk's rows, and says which harvests (by chunk
// index) do not read, with why: their rows, if any were written before the
// reader stopped, carry a raw key the load map does not name. A unit with
// stored parsed rows of this parser version is copied as it is; every
// other unit's raw object is parsed now, into a few Parquet files: one
// writer for hundreds of units costs a fraction of a file each, and the
// rows carry their raw key (source_key) to find their unit. Harvests are
// parsed on every core (a national night is 135,000 small objects, each
// mostly reader setup); uploads, whose units share files, in one pass.
func localParsed(ctx context.Context, src Source, tmp string, chunk []bibstat.Sidecar) (files chunkFiles, bad map[int]string, err error) {
	files = chunkFiles{perUnit: make([]string, len(chunk))}
	bad = map[int]string{}
	var raws, uploads []int
	for i, side := range chunk {
		name, ok, err := copyParsed(ctx, src, tmp, i, side)
		if err != nil {
			return files, bad, err
		}
		switch {
		case ok:
			files.perUnit[i] = name
		case side.Upload != nil: // its key names a unit, not an object: its file is read
			uploads = append(uploads, i)
		default:
			raws = append(raws, i)
		}
	}
	whys := make([]string, len(chunk))
	if len(uploads) > 0 {
		rr := newRereads()
		err := writePart(filepath.Join(tmp, "uploads.parquet"), &files, func(pw *schemas.ParquetWriter) error {
			for _, i := range uploads {
				var err error
				if whys[i], err = rr.read(ctx, src, chunk[i], pw); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return files, bad, err
		}
	}
	if err := parseRaws(ctx, src, tmp, chunk, raws, whys, &files); err != nil {
		return files, bad, err
	}
	for i, why := range whys {
		if why != "" {
			bad[i] = why
		}
	}
	return files, bad, nil
}

// parseRaws parses the raw objects of chunk[raws] on every core, each
// worker into a file of its own, writing each harvest's why at its index.
func parseRaws(ctx context.Context, src Source, tmp string, chunk []bibstat.Sidecar, raws []int, whys []string, files *chunkFiles) error {
	if len(raws) == 0 {
		return nil
	}
	workers := min(runtime.GOMAXPROCS(0), len(raws))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	names := make([]string, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		names[w] = filepath.Join(tmp, fmt.Sprintf("parsed-%d.parquet", w))
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = writeFile(names[w], func(pw *schemas.ParquetWriter) error {
				for i := range next {
					var err error
					if whys[i], err = parseRaw(ctx, src, chunk[i], pw); err != nil {
						cancel() // the others stop at their next unit
						return err
					}
				}
				return nil
			})
			if errs[w] != nil {
				for range next { // let the sender finish
				}
			}
		}()
	}
	for _, i := range raws {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	files.parsed = append(files.parsed, names...)
	return firstError(errs)
}

// firstError is the first of errs that is not the cancellation the first
// failure caused in the other workers, or nil.
func firstError(errs []error) error {
	var first error
	for _, err := range errs {
		if err != nil && (first == nil || errors.Is(first, context.Canceled)) {
			first = err
		}
	}
	return first
}

// writePart writes one Parquet file of the chunk's parsed rows with write
// and adds it to files.
func writePart(name string, files *chunkFiles, write func(*schemas.ParquetWriter) error) error {
	files.parsed = append(files.parsed, name)
	return writeFile(name, write)
}

// writeFile creates the Parquet file name and fills it with write.
func writeFile(name string, write func(*schemas.ParquetWriter) error) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	pw, err := schemas.NewParquetWriter(f)
	if err != nil {
		f.Close()
		return err
	}
	werr := write(pw)
	err = pw.Close()
	// The Parquet writer closes its file too; closing it again is harmless.
	if cerr := f.Close(); cerr != nil && !errors.Is(cerr, os.ErrClosed) && err == nil {
		err = fmt.Errorf("load: %w", cerr)
	}
	if werr != nil {
		return werr
	}
	return err
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
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	rc, err := src.Get(ctx, side.Key)
	if err != nil {
		return "", fmt.Errorf("parse %s: %w", side.Key, err)
	}
	defer rc.Close()
	r, opts, err := sized(rc, counter.Options{Name: side.Key, SourceKey: side.Key})
	if err != nil {
		return "", fmt.Errorf("parse %s: %w", side.Key, err)
	}
	// A failed write (the disk) stops the load; a failed read is the object's.
	var werr error
	doc, err := counter.Read(ctx, r, opts, func(rec arrow.RecordBatch) error {
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

// sized reads an object smaller than the reader's line bound whole and
// bounds its lines by its own size instead: no line of it can be longer,
// so it reads the same, and the reader's line buffer (1 MiB by default,
// most of what a national load of small objects allocated) shrinks to the
// object's size. A larger object is streamed as it is.
func sized(r io.Reader, opts counter.Options) (io.Reader, counter.Options, error) {
	limit := opts.MaxLineBytes
	if limit <= 0 {
		limit = counter.DefaultMaxLineBytes
	}
	head, err := io.ReadAll(io.LimitReader(r, int64(limit)))
	if err != nil {
		return nil, opts, err
	}
	if len(head) == limit {
		return io.MultiReader(bytes.NewReader(head), r), opts, nil
	}
	opts.MaxLineBytes = len(head) + 1
	return bytes.NewReader(head), opts, nil
}

func hasCode(excs []counter.Exception, code int) bool {
	for _, e := range excs {
		if e.Code == code {
			return true
		}
	}
	return false
}
