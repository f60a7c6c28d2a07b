package transform

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bibliotek24/bibstat"
)

// Source is what loading needs of the object store.
type Source interface {
	List(ctx context.Context, prefix string) ([]string, error)
	Get(ctx context.Context, key string) (io.ReadCloser, error)
}

// LoadSummary counts what a load did.
type LoadSummary struct {
	Units     int   // units with a loadable harvest in the archive
	Loaded    int   // units whose facts were (re)loaded now
	Unchanged int   // units already loaded from their newest harvest that reads
	Rows      int64 // fact rows inserted now
	// Failed are the harvests whose sidecar says loadable but whose raw
	// object does not read now, or reads to nothing that is not the
	// vendor's "no usage": each unit keeps the facts it had, or is loaded
	// from its newest older harvest that reads.
	Failed []LoadFailure
	// Marts is how long refreshing the marts took, when this load did.
	Marts time.Duration
}

// LoadFailure is one harvest that could not be loaded, and why.
type LoadFailure struct {
	Key    string // the raw object
	Reason string
}

// A chunk is the units one transaction loads: at least loadChunk units,
// and more while they hold fewer than loadChunkRows rows, up to
// maxChunkUnits. Every chunk costs its statements, its commit and a WAL
// write; a national night is 135,000 units of five rows, which in chunks
// of 2,048 spent more on those than on the rows. The bound of units keeps
// the parse done again when a harvest of the chunk does not read (it is
// rolled back whole) to a few seconds.
const (
	loadChunk     = 2048
	loadChunkRows = 1 << 17
	maxChunkUnits = 32768
)

// chunkEnd is where the chunk of todo starting at start ends: the units'
// sidecar rows say how big it is (a unit whose sidecar counts none is
// taken as none, so such a chunk stops at maxChunkUnits).
func chunkEnd(todo []bibstat.Sidecar, start int) int {
	var rows int64
	end := start
	for end < len(todo) && end-start < maxChunkUnits && (end-start < loadChunk || rows < loadChunkRows) {
		rows += max(todo[end].Rows, 0)
		end++
	}
	return end
}

// Load brings the facts up to date with the archive: every unit whose
// newest loadable harvest is not the one loaded gets its facts replaced.
// "Loadable" is the sidecar's word checked against the object: a harvest
// that does not read, or reads to nothing without saying "no usage"
// (Empty, 3030), never replaces a unit's facts; the next older one is
// tried instead, down to the one loaded.
func (w *Warehouse) Load(ctx context.Context, src Source) (LoadSummary, error) {
	began := time.Now()
	cands, err := loadableHarvests(ctx, src)
	if err != nil {
		return LoadSummary{}, err
	}
	w.log.Debug("read the sidecars", "units", len(cands), "took", time.Since(began))
	arrived := firstArrivals(cands)
	loaded, err := w.loadedUnits(ctx)
	if err != nil {
		return LoadSummary{}, err
	}
	sum := LoadSummary{Units: len(cands)}
	next := map[string]int{} // unit → index of the harvest being tried
	var todo []bibstat.Sidecar
	for unit, cs := range cands {
		if loaded[unit] == cs[0].Key {
			sum.Unchanged++
			continue
		}
		todo = append(todo, cs[0])
	}
	tmp, err := os.MkdirTemp("", "bibstat-load-")
	if err != nil {
		return sum, fmt.Errorf("load: %w", err)
	}
	defer os.RemoveAll(tmp)
	checkpoint, err := w.deferCheckpoints(ctx)
	if err != nil {
		return sum, err
	}
	defer checkpoint(false) // on an error too: the threshold is restored (again, harmlessly, after the call below)
	for len(todo) > 0 {
		failed, err := w.loadAll(ctx, src, tmp, todo, loaded, arrived, &sum)
		if err != nil {
			return sum, err
		}
		// Each unit whose harvest failed falls back on its next older one.
		todo = todo[:0]
		for _, side := range failed {
			unit := sourceKey(side)
			next[unit]++
			if next[unit] >= len(cands[unit]) {
				continue
			}
			if older := cands[unit][next[unit]]; loaded[unit] == older.Key {
				sum.Unchanged++
			} else {
				todo = append(todo, older)
			}
		}
	}
	if err := checkpoint(sum.Loaded > 0); err != nil {
		return sum, err
	}
	copiesChanged, err := w.putStaleCopies(ctx, cands)
	if err != nil {
		return sum, err
	}
	var dirty int
	if err := w.DB.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM dirty_months) + (SELECT count(*) FROM dirty_units)`).Scan(&dirty); err != nil {
		return sum, fmt.Errorf("load: %w", err)
	}
	if dirty > 0 || sum.Loaded > 0 || copiesChanged {
		start := time.Now()
		if err := w.Refresh(ctx); err != nil {
			return sum, err
		}
		sum.Marts = time.Since(start)
		w.log.Debug("refreshed marts", "took", sum.Marts)
	}
	return sum, nil
}

// deferCheckpoints keeps DuckDB from checkpointing while the chunks load:
// past checkpoint_threshold of write-ahead log every commit checkpoints,
// rewriting loaded_units' index and the facts' last row group each time.
// done(true) checkpoints once; done restores the threshold in any case,
// and must be called, on errors too, before the warehouse is used on.
// Only resetting the threshold can fail it.
func (w *Warehouse) deferCheckpoints(ctx context.Context) (done func(checkpoint bool) error, err error) {
	if _, err := w.DB.ExecContext(ctx, `SET GLOBAL checkpoint_threshold = '4GB'`); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	return func(checkpoint bool) error {
		if _, err := w.DB.ExecContext(context.WithoutCancel(ctx), `RESET GLOBAL checkpoint_threshold`); err != nil {
			return fmt.Errorf("load: %w", err)
		}
		if !checkpoint {
			return nil
		}
		// CHECKPOINT fails while another connection has a transaction
		// open (the portal, in 'bibstat serve'): the loaded facts are in
		// the log all the same, and the next commit past the threshold
		// checkpoints them.
		start := time.Now()
		if _, err := w.DB.ExecContext(ctx, `CHECKPOINT`); err != nil {
			w.log.Warn("load: not checkpointed now; the next commit will", "err", err)
			return nil
		}
		w.log.Debug("checkpointed the load", "took", time.Since(start))
		return nil
	}, nil
}

// loadAll loads todo in chunks, each parsed while the one before it is
// stored (parseChunks), and returns the harvests that failed to read,
// recorded in sum and logged.
func (w *Warehouse) loadAll(ctx context.Context, src Source, tmp string, todo []bibstat.Sidecar, loaded map[string]string, arrived map[string]time.Time, sum *LoadSummary) ([]bibstat.Sidecar, error) {
	sort.Slice(todo, func(i, j int) bool { return todo[i].Key < todo[j].Key })
	var chunks [][]bibstat.Sidecar
	for start, end := 0, 0; start < len(todo); start = end {
		end = chunkEnd(todo, start)
		chunks = append(chunks, todo[start:end])
	}
	runs, stop := parseChunks(ctx, src, tmp, chunks)
	defer stop()
	var failed []bibstat.Sidecar
	for run := range runs {
		reloads := false
		for _, side := range run.chunk {
			if _, ok := loaded[sourceKey(side)]; ok {
				reloads = true
				break
			}
		}
		n, bad, err := w.loadChunk(ctx, src, tmp, run, reloads, arrived)
		if err != nil {
			return nil, err
		}
		for i, why := range bad {
			side := run.chunk[i]
			sum.Failed = append(sum.Failed, LoadFailure{Key: side.Key, Reason: why})
			w.log.Warn("harvest not loaded: the unit keeps its facts", "key", side.Key, "reason", why)
			failed = append(failed, side)
		}
		sum.Loaded += len(run.chunk) - len(bad)
		sum.Rows += n
		w.log.Debug("loaded units", "done", sum.Loaded, "of", len(todo))
	}
	return failed, ctx.Err()
}

// loadableHarvests reads every sidecar and keeps, per unit, those whose
// object is loadable, newest first. Raw keys sort by harvest time within a
// unit.
func loadableHarvests(ctx context.Context, src Source) (map[string][]bibstat.Sidecar, error) {
	keys, err := src.List(ctx, bibstat.RawPrefix)
	if err != nil {
		return nil, fmt.Errorf("list raw archive: %w", err)
	}
	var sidecars []string
	for _, k := range keys {
		if bibstat.IsSidecar(k) {
			sidecars = append(sidecars, k)
		}
	}
	sides, err := readSidecars(ctx, src, sidecars)
	if err != nil {
		return nil, err
	}
	out := map[string][]bibstat.Sidecar{}
	for _, side := range sides {
		if !side.Loadable() {
			continue
		}
		u := sourceKey(side)
		out[u] = append(out[u], side)
	}
	for _, cs := range out {
		sort.Slice(cs, func(i, j int) bool { return cs[i].Key > cs[j].Key })
	}
	return out, nil
}

// sourceKey names the source a harvest belongs to, within which a newer
// harvest supersedes the older (a restatement). A SUSHI unit is one
// source: the harvest asks the platform's one release, and its newest
// answer, a 3030 without a header too, is what the vendor says now. An
// upload unit is one source per COUNTER release: an R5 TR uploaded after
// the R5.1 TR of its month is another statement of that usage, not a
// restatement, and the rule of choice in schemas/sql/marts.sql
// (source_choice) decides which counts.
func sourceKey(side bibstat.Sidecar) string {
	if side.Source == "upload" {
		return bibstat.UnitPrefixOf(side.Key) + "@" + side.Release
	}
	return bibstat.UnitPrefixOf(side.Key)
}

// sourceOf says where a harvest came from, as platforms[].prefer_source
// names it: "sushi", or "upload/VENDOR" for a file uploaded under VENDOR.
func sourceOf(side bibstat.Sidecar) string {
	if rest, ok := strings.CutPrefix(side.Key, bibstat.RawPrefix+"upload/"); ok {
		vendor, _, _ := strings.Cut(rest, "/")
		return "upload/" + vendor
	}
	if side.Source == "" {
		return "sushi"
	}
	return side.Source
}

// sidecarReaders bounds the sidecar Gets in flight: a national archive
// has 135,000, a round trip each to S3, and decoding them is CPU work for
// every core.
const sidecarReaders = 16

// readSidecars reads the sidecars keys, sidecarReaders at a time, in the
// order of keys.
func readSidecars(ctx context.Context, src Source, keys []string) ([]bibstat.Sidecar, error) {
	out := make([]bibstat.Sidecar, len(keys))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(sidecarReaders)
	for i, k := range keys {
		g.Go(func() error {
			var err error
			out[i], err = readSidecar(ctx, src, k)
			return err
		})
	}
	return out, g.Wait()
}

func readSidecar(ctx context.Context, src Source, key string) (bibstat.Sidecar, error) {
	rc, err := src.Get(ctx, key)
	if err != nil {
		return bibstat.Sidecar{}, fmt.Errorf("read sidecar: %w", err)
	}
	defer rc.Close()
	side, err := bibstat.DecodeSidecar(rc)
	if err != nil {
		return bibstat.Sidecar{}, fmt.Errorf("read sidecar %s: %w", key, err)
	}
	if bibstat.SidecarKey(side.Key) != key {
		return bibstat.Sidecar{}, fmt.Errorf("read sidecar %s: it describes %q", key, side.Key)
	}
	return side, nil
}

func (w *Warehouse) loadedUnits(ctx context.Context) (map[string]string, error) {
	rows, err := w.DB.QueryContext(ctx, `SELECT unit_key, raw_key FROM loaded_units`)
	if err != nil {
		return nil, fmt.Errorf("read loaded units: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var u, k string
		if err := rows.Scan(&u, &k); err != nil {
			return nil, fmt.Errorf("read loaded units: %w", err)
		}
		out[u] = k
	}
	return out, rows.Err()
}
