package report

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

// Every usage download names the library of each row: the Parquet one too,
// for a library, a county and the nation, and its totals are the page's.
func TestParquetHasLibraries(t *testing.T) {
	site := buildHostileSite(t, "nb")
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, f := range []string{"bibliotek/2030100-bruk.parquet", "fylke/fylke-55-bruk.parquet", "nasjonalt-bruk.parquet"} {
		var rows, unnamed int
		var total float64
		err := db.QueryRowContext(context.Background(), `SELECT count(*), count(*) FILTER (WHERE Library_ID = '' OR Library_Name = ''), sum(Total)
			FROM read_parquet(?) WHERE Metric_Type = 'Total_Item_Requests'`, filepath.Join(site, f)).Scan(&rows, &unnamed, &total)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if rows == 0 || unnamed != 0 {
			t.Errorf("%s: %d rows, %d without a library", f, rows, unnamed)
		}
		want := map[string]float64{"bibliotek/2030100-bruk.parquet": 14904, "fylke/fylke-55-bruk.parquet": 14904, "nasjonalt-bruk.parquet": 29808}[f]
		if total != want {
			t.Errorf("%s: Total_Item_Requests %v, want %v", f, total, want)
		}
	}
}

// The Parquet download's order is the full sort by library, month,
// platform, release and metric, whatever order the rows come in.
func TestParquetOrder(t *testing.T) {
	full := func(a, b libraryUsage) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Name, b.Name), a.Month.Compare(b.Month),
			cmp.Compare(a.Platform, b.Platform), cmp.Compare(a.Release, b.Release), cmp.Compare(a.Metric, b.Metric))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 200 {
		var rows []libraryUsage
		for range n {
			rows = append(rows, libraryUsage{ID: fmt.Sprint(r.IntN(4)), Name: fmt.Sprint(r.IntN(2)), usageRow: usageRow{
				Platform: fmt.Sprint(r.IntN(3)), Release: fmt.Sprint(r.IntN(2)), Metric: fmt.Sprint(r.IntN(3)),
				Month: time.Date(2025, time.Month(1+r.IntN(3)), 1, 0, 0, 0, 0, time.UTC)}})
		}
		if n%2 == 0 { // as the prefetch gives them: per library, by platform, release, metric, month
			slices.SortFunc(rows, func(a, b libraryUsage) int {
				return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Platform, b.Platform),
					cmp.Compare(a.Release, b.Release), cmp.Compare(a.Metric, b.Metric), a.Month.Compare(b.Month))
			})
		}
		want := slices.Clone(rows)
		slices.SortStableFunc(want, full)
		if got := parquetOrder(rows); !slices.EqualFunc(got, want, func(a, b libraryUsage) bool { return full(a, b) == 0 }) || len(got) != len(rows) {
			t.Fatalf("%d rows: order %v, want %v", n, got, want)
		}
	}
}

// A county's or the nation's Parquet file put together from its libraries'
// columns, made once for their own files, is the same bytes as one made
// from every row, whatever order the libraries and their rows come in,
// with the nation's unattributed rows, and with a library in two runs.
func TestParquetFromFragmentsAsWhole(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := range 60 {
		frags := newFragments(map[string]int{})
		var rows []libraryUsage
		var runs []sheetRun
		libs := r.IntN(6)
		for l := range libs {
			id, name := fmt.Sprint(r.IntN(100)+l*100), fmt.Sprint("Bibliotek ", r.IntN(3))
			k := 1 + r.IntN(30)
			again := n%5 == 4 && l == libs-1 && l > 0
			if again { // the first library again: a second run of one key
				id, name = rows[0].ID, rows[0].Name
			}
			start := len(rows)
			// Each key once, as the marts' GROUP BY gives them: rows of one
			// key would be in no defined order in either file.
			for _, c := range r.Perm(3 * 2 * 3 * 24)[:k] {
				rows = append(rows, libraryUsage{ID: id, Name: name, usageRow: usageRow{
					Platform: fmt.Sprint(c % 3), Release: fmt.Sprint(c / 3 % 2), Metric: fmt.Sprint(c / 6 % 3),
					Month: time.Date(2024, time.Month(1+c/18), 1, 0, 0, 0, 0, time.UTC),
					Count: r.Int64N(1000), Pooled: r.Float64(), Total: r.Float64() * 1000}})
			}
			runs = append(runs, sheetRun{key: id + "\x00" + name, n: k})
			if again {
				continue
			}
			own := sheet{rows: rows[start:], runs: runs[len(runs)-1:], frags: frags}
			var b bytes.Buffer
			if err := own.writeParquet(&b); err != nil { // the library's own file, which makes its fragment
				t.Fatal(err)
			}
		}
		if n%2 == 1 {
			for _, c := range r.Perm(36)[:1+r.IntN(5)] {
				rows = append(rows, libraryUsage{Name: "Ikke fordelt", usageRow: usageRow{Platform: fmt.Sprint(c % 3), Metric: "m",
					Month: time.Date(2025, time.Month(1+c/3), 1, 0, 0, 0, 0, time.UTC), Count: r.Int64N(9)}})
			}
		}
		var whole, parts bytes.Buffer
		if err := (sheet{rows: rows}).writeParquet(&whole); err != nil {
			t.Fatal(err)
		}
		if err := (sheet{rows: rows, runs: runs, frags: frags}).writeParquet(&parts); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(whole.Bytes(), parts.Bytes()) {
			t.Fatalf("case %d (%d rows, %d runs): the file put together differs from the whole", n, len(rows), len(runs))
		}
	}
}
