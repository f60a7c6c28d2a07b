package bench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// rounds are the times of the parse comparison's loads, in seconds, one
// of each side a round.
type rounds struct {
	rows                    int64
	ours, oursParse, duckdb []float64
	// The process's CPU seconds (every thread: ours, DuckDB's) of each
	// load: on a busy machine they say what wall times cannot.
	oursCPU, duckdbCPU []float64
	// oursParseCPU is the Go parse's own CPU seconds of each of our
	// loads, nil where the system cannot tell.
	oursParseCPU []float64
}

// alternate loads tsv into db our way (through pq) and DuckDB's way, in
// turn, n times each: ours, DuckDB's, ours, … A busy machine then slows
// both sides alike rather than whichever ran while it was busiest, and
// the medians say what one paired run cannot.
func alternate(ctx context.Context, db *sql.DB, tsv, pq string, n int) (rounds, error) {
	return alternateOn(ctx, db, tsv, pq, n, benchBatchRows)
}

// alternateOn is alternate with our reader's batches of batchRows rows.
func alternateOn(ctx context.Context, db *sql.DB, tsv, pq string, n int, batchRows int) (rounds, error) {
	var r rounds
	for i := range n {
		start, cpu := time.Now(), cpuSeconds()
		ours, parse, err := loadOurs(ctx, db, tsv, pq, batchRows)
		if err != nil {
			return r, fmt.Errorf("ours, round %d: %w", i+1, err)
		}
		r.ours = append(r.ours, time.Since(start).Seconds())
		r.oursCPU = append(r.oursCPU, cpuSeconds()-cpu)
		r.oursParse = append(r.oursParse, parse.seconds)
		if parse.cpu >= 0 {
			r.oursParseCPU = append(r.oursParseCPU, parse.cpu)
		}

		start, cpu = time.Now(), cpuSeconds()
		duck, err := loadDuck(ctx, db, tsv)
		if err != nil {
			return r, fmt.Errorf("duckdb, round %d: %w", i+1, err)
		}
		r.duckdb = append(r.duckdb, time.Since(start).Seconds())
		r.duckdbCPU = append(r.duckdbCPU, cpuSeconds()-cpu)
		if ours != duck {
			return r, fmt.Errorf("round %d: ours loaded %v, duckdb %v", i+1, ours, duck)
		}
		r.rows = ours.rows
	}
	return r, nil
}

// ratios is each round's DuckDB time over ours: above 1, ours is faster.
func (r rounds) ratios() []float64 { return ratios(r.duckdb, r.ours) }

// ratios is a[i]/b[i] for each i.
func ratios(a, b []float64) []float64 {
	out := make([]float64, len(b))
	for i := range b {
		out[i] = a[i] / b[i]
	}
	return out
}

// print writes each round's times and ratio, prefixed, and the medians of
// the ratios' sides; the callers print their own keys of the medians.
func (r rounds) print(w io.Writer, prefix string) {
	fmt.Fprintf(w, "%srounds=%d\n", prefix, len(r.ours))
	fmt.Fprintf(w, "%sours_seconds_each=%s\n%sduckdb_seconds_each=%s\n", prefix, list(r.ours, 3), prefix, list(r.duckdb, 3))
	fmt.Fprintf(w, "%sparse_vs_duckdb_ratio_each=%s\n", prefix, list(r.ratios(), 2))
	fmt.Fprintf(w, "%sparse_vs_duckdb_ratio_of_medians=%.2f\n", prefix, median(r.duckdb)/median(r.ours))
}

// median of xs, 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

func list(xs []float64, prec int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.FormatFloat(x, 'f', prec, 64)
	}
	return strings.Join(parts, ",")
}
