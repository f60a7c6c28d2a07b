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
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/counter"
	"github.com/bibliotek24/bibstat/schemas"
)

// chunkFiles are a chunk's stored parsed rows, copied to local files for
// read_parquet, in a directory of the chunk's own: the next chunk's copies
// are made while this one loads.
type chunkFiles struct {
	dir     string
	perUnit []string // by chunk index: a copy of the unit's stored Parquet, or ""
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
	if c.dir != "" {
		os.RemoveAll(c.dir)
	}
}

// copyAll copies the stored parsed rows of each unit that has them from
// this parser version (copyParsed) into a new directory under tmp.
func copyAll(ctx context.Context, src Source, tmp string, chunk []bibstat.Sidecar) (chunkFiles, error) {
	files := chunkFiles{perUnit: make([]string, len(chunk))}
	dir, err := os.MkdirTemp(tmp, "copies-")
	if err != nil {
		return files, fmt.Errorf("load: %w", err)
	}
	files.dir = dir
	for i, side := range chunk {
		name, ok, err := copyParsed(ctx, src, dir, i, side)
		if err != nil {
			return files, err
		}
		if ok {
			files.perUnit[i] = name
		}
	}
	return files, nil
}

// parsing is a chunk's parse into a stream of record batches, under way.
type parsing struct {
	stream *schemas.Stream
	cancel context.CancelFunc // stops the parse
	whys   []string           // by chunk index: why the harvest is not loaded, or ""
	doomed atomic.Bool
	done   chan struct{}
	err    error
	took   time.Duration // from start to the stream's end
	rows   atomic.Int64  // rows sent
}

// streamBuffer is how many batches a parse sends ahead of DuckDB's
// reading: a chunk of small units whole (loadChunkRows rows in batches of
// gatherRows), so that the next chunk's parse runs to its end while
// DuckDB stores the last chunk's rows.
const streamBuffer = loadChunkRows / gatherRows

// startParse parses the units of chunk that have no copy in files and are
// not in skip into a new stream (p.stream, holding up to buffer batches
// not read yet), and closes it. Harvests are parsed on every
// core (a national night is 135,000 small objects, each mostly reader
// setup); uploads, whose units share files, in one pass beside them. Each
// row goes with its unit (factsSchema); an upload's rows of units the
// chunk does not load are left out. Rows are joined into batches of
// streamBatchRows across units.
//
// Once a harvest does not read, what the others parse is not sent: the
// load of this attempt is rolled back and done again without it (rows of
// it may have gone already). The parse goes on, to find every harvest of
// the chunk that does not read in one attempt.
func startParse(ctx context.Context, src Source, chunk []bibstat.Sidecar, files chunkFiles, skip map[int]string, buffer int) *parsing {
	ctx, cancel := context.WithCancel(ctx)
	stream := schemas.NewStream(factsSchema, buffer)
	p := &parsing{stream: stream, cancel: cancel, whys: make([]string, len(chunk)), done: make(chan struct{})}
	var raws, uploads []int
	for i, side := range chunk {
		_, skipped := skip[i]
		switch {
		case skipped || files.perUnit[i] != "":
		case side.Upload != nil: // its key names a unit, not an object: its file is read
			uploads = append(uploads, i)
		default:
			raws = append(raws, i)
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(raws))
	errs := make([]error, workers+1)
	next := make(chan int)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			errs[w] = p.emitting(ctx, stream, func(unit func(arrow.RecordBatch, unitRef) error, row func(*schemas.Row, unitRef) error) error {
				for i := range next {
					u := unitRef{key: sourceKey(chunk[i]), library: string(chunk[i].Library)}
					var err error
					if p.whys[i], err = parseRaw(ctx, src, chunk[i], func(r *schemas.Row) error {
						return row(r, u)
					}); err != nil {
						cancel() // the others stop at their next unit
						return err
					}
					p.noteWhy(p.whys[i])
				}
				return nil
			})
			if errs[w] != nil {
				for range next { // let the sender finish
				}
			}
		})
	}
	if len(uploads) > 0 {
		wg.Go(func() {
			errs[workers] = p.emitting(ctx, stream, func(unit func(arrow.RecordBatch, unitRef) error, _ func(*schemas.Row, unitRef) error) error {
				units := map[string]unitRef{}
				for _, i := range uploads {
					units[chunk[i].Key] = unitRef{key: sourceKey(chunk[i]), library: string(chunk[i].Library)}
				}
				rr := newRereads()
				for _, i := range uploads {
					var err error
					if p.whys[i], err = rr.read(ctx, src, chunk[i], func(rec arrow.RecordBatch) error {
						return withUnits(rec, units, unit)
					}); err != nil {
						cancel()
						return err
					}
					p.noteWhy(p.whys[i])
				}
				return nil
			})
		})
	}
	start := time.Now()
	go func() {
		defer close(p.done)
		defer cancel()
		for _, i := range raws {
			if ctx.Err() != nil {
				break
			}
			next <- i
		}
		close(next)
		wg.Wait()
		p.err = firstError(errs)
		p.took = time.Since(start)
		stream.CloseSend(p.err)
	}()
	return p
}

// emitting runs parse with a unit, which takes a batch of Usage, all of
// one unit, and joins such batches (a small one row by row, gatherer; a
// larger one whole, coalescer) into batches of factsSchema sent to stream,
// and sends the rest when parse is done.
func (p *parsing) emitting(ctx context.Context, stream *schemas.Stream, parse func(unit func(arrow.RecordBatch, unitRef) error, row func(*schemas.Row, unitRef) error) error) error {
	send := func(rec arrow.RecordBatch) error {
		if p.doomed.Load() {
			rec.Release()
			return nil
		}
		p.rows.Add(rec.NumRows())
		return stream.Send(ctx, rec)
	}
	c := coalescer{min: streamBatchRows, send: send}
	defer c.release()
	g := newGatherer(gatherRows, send)
	defer g.release()
	unit := func(rec arrow.RecordBatch, u unitRef) error {
		if rec.NumRows() > gatherMaxRows {
			return c.add(withUnit(rec, u))
		}
		return g.add(rec, u)
	}
	if err := parse(unit, g.addRow); err != nil {
		return err
	}
	if err := g.flush(); err != nil {
		return err
	}
	return c.flush()
}

func (p *parsing) noteWhy(why string) {
	if why != "" {
		p.doomed.Store(true)
	}
}

// wait waits for the parse to end and gives the harvests that do not read,
// by chunk index, with why.
func (p *parsing) wait() (map[int]string, error) {
	<-p.done
	bad := map[int]string{}
	for i, why := range p.whys {
		if why != "" {
			bad[i] = why
		}
	}
	return bad, p.err
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

// copyParsed copies the unit's stored parsed rows when this parser version
// wrote them; older ones are read again from raw (an upload's from its
// file, rereadUpload), so that a reader fix reaches every unit. An
// access-log unit's rows are always copied: they are the count ingest-logs
// made from the archived events, no raw object exists for this reader, and
// a recount is ingest-logs' work.
func copyParsed(ctx context.Context, src Source, dir string, i int, side bibstat.Sidecar) (string, bool, error) {
	current := side.ParserVersion == schemas.Version || side.Source == bibstat.SourceAccessLog
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
	name := filepath.Join(dir, fmt.Sprintf("%06d.parquet", i))
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

// parseRaw reads a unit's raw object with this binary's reader, each row
// to row (counter.Options.Rows: straight into the worker's gatherer, no
// batch of the unit's own).
// why says, when it is not "", why the harvest is not loaded: the object
// does not read, or reads to no rows without being the vendor's positive
// "no usage" (an Empty report, or exception 3030). Its error is for the
// store and ctx.
func parseRaw(ctx context.Context, src Source, side bibstat.Sidecar, row func(*schemas.Row) error) (why string, err error) {
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
	// A failed send (the load) stops the load; a failed read is the object's.
	// The rows of an object that fails may have gone: its why dooms the
	// attempt, which is loaded again without it.
	var werr error
	opts.Rows = func(r *schemas.Row) error {
		if err := row(r); err != nil {
			werr = err
			return err
		}
		return nil
	}
	doc, err := counter.Read(ctx, r, opts, nil)
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
