package transform_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/bibliotek24/bibstat/transform"
)

// TestAggUsageEqualsFactsSummed: agg_usage, summed on the narrow rows'
// numbers and joined to their heads after (marts.go, aggSQL), equals the
// facts view summed from scratch, and the marts equal a rebuild's, for
// random worlds through loads and restatements of random sources; and
// after rows the load never writes but the view gives: two heads that
// differ only in institution_name, a NULL institution_id beside an empty
// one, and a loose row of the same keys as a narrow one. Each is one
// agg_usage row: a use summed into two rows would count twice, one left
// out would count as zero.
func TestAggUsageEqualsFactsSummed(t *testing.T) {
	ctx := context.Background()
	want := map[feature]bool{}
	for _, f := range features {
		if unfixedWhy(f) == "" {
			want[f] = true
		}
	}
	seeds := 3
	if testing.Short() {
		seeds = 1
	}
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			w := gen(seed+1000, want)
			st := newStore(t, w)
			wh, err := transform.Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"), transform.Options{Threads: 2, PreferSource: w.Prefer}, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer wh.Close()
			same := func(step string) {
				t.Helper()
				if n := differ(t, wh.DB, `SELECT * FROM agg_usage`, aggFromScratch); n != 0 {
					t.Errorf("after %s: %d rows of agg_usage differ from the facts summed from scratch", step, n)
				}
			}
			if _, err := wh.Update(ctx, st); err != nil {
				t.Fatal(err)
			}
			same("the first load")

			// Restate a random third of the sources: a newer harvest of each,
			// other counts, so the incremental sum must drop the old rows.
			r := rand.New(rand.NewPCG(seed, 7))
			restated := 0
			for _, s := range w.Sources {
				if s.Body != "" || r.IntN(3) != 0 {
					continue
				}
				s.At += 100
				rows := make([]wRow, len(s.Rows))
				for i, row := range s.Rows {
					row.Count += int64(1 + r.IntN(5))
					rows[i] = row
				}
				s.Rows = rows
				archiveSource(t, st, s)
				restated++
			}
			if _, err := wh.Update(ctx, st); err != nil {
				t.Fatal(err)
			}
			same(fmt.Sprintf("%d sources restated", restated))

			// Rows the view gives that the load does not write: a second head
			// differing only in institution_name (and, for one, NULL against
			// an empty institution_id), and a loose copy of a narrow row. The
			// sources they are under are marked dirty, as a load would.
			for _, q := range []string{
				`INSERT INTO narrow.heads SELECT * REPLACE (head_id + 100000 AS head_id, 'another name' AS institution_name,
				   CASE WHEN institution_id = '' THEN NULL ELSE institution_id END AS institution_id) FROM narrow.heads`,
				`INSERT INTO narrow.facts_rows SELECT * REPLACE (head_id + 100000 AS head_id) FROM narrow.facts_rows WHERE unit_no % 2 = 0`,
				`INSERT INTO facts_loose BY NAME SELECT * FROM facts WHERE unit_key IN (SELECT unit_key FROM narrow.units WHERE unit_no % 3 = 0)`,
				`INSERT INTO dirty_units SELECT unit_key FROM narrow.units WHERE unit_no % 2 = 0 OR unit_no % 3 = 0`,
			} {
				if _, err := wh.DB.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			var extra int
			if err := wh.DB.QueryRowContext(ctx, `SELECT count(*) FROM facts_loose`).Scan(&extra); err != nil {
				t.Fatal(err)
			}
			if err := wh.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			same(fmt.Sprintf("second heads and %d loose rows", extra))
			if n := titlesDiffer(t, wh.DB); n != 0 {
				t.Errorf("after second heads and loose rows: %d rows of mart_title_month differ from a build from scratch", n)
			}
		})
	}
}
