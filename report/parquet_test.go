package report

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

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
