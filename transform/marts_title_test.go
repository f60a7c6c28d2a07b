package transform_test

import (
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/bibliotek24/bibstat/transform"
)

// titlesFromScratch is mart_title_month as marts.sql built it whole on
// every refresh, from the view facts_chosen: what the per-month refresh
// must always equal.
const titlesFromScratch = `WITH t AS (
  SELECT target_kind, target_id, platform, title, metric_type, month, report_id, sum(count)::BIGINT AS count
  FROM facts_chosen WHERE coalesce(title, '') <> '' GROUP BY ALL
),
best AS (
  SELECT target_kind, target_id, platform, metric_type, month,
         min({'pr': report_rank(report_id), 'report_id': report_id}).report_id AS report_id
  FROM t GROUP BY ALL
)
SELECT target_kind, target_id, platform, title, metric_type, month, count
FROM t SEMI JOIN best USING (target_kind, target_id, platform, metric_type, month, report_id)`

// TestTitlesPerMonthEqualFromScratch: through loads, a register change,
// preference changes and restatements, the mart_title_month a refresh
// keeps per month and platform, and agg_usage kept per source, equal ones
// built from scratch, and each step changes the titles (else the step
// would prove nothing). The register and preference steps load no facts:
// only the (month, platform) whose choice changed are redone; a
// restatement of one platform's month leaves the other platforms' rows of
// the month as they were.
func TestTitlesPerMonthEqualFromScratch(t *testing.T) {
	ctx := context.Background()
	w := world{
		Libs: []wLib{{"2030100", "0301"}, {"2300500", "3005"}},
		Sources: []wSource{
			{"avis", "avis", false, "2030100", "2030100", "5", "TR", "2024-01", 1, []wRow{
				{"", "Aftenposten", "Total_Item_Requests", 10}, {"avis:ip-x", "VG", "Total_Item_Requests", 7}}, ""},
			{"avis", "avis", false, "2030100", "2030100", "5", "TR", "2024-02", 2, []wRow{{"", "Aftenposten", "Total_Item_Requests", 20}}, ""},
			{"avis-filer", "avis", true, "2030100", "", "5", "TR", "2024-02", 3, []wRow{{"ISIL:NO-2030100", "Aftenposten", "Total_Item_Requests", 25}}, ""},
			{"bok", "bok", false, "2300500", "2300500", "5", "TR", "2024-03", 4, []wRow{{"", "Bok", "Unique_Title_Requests", 3}}, ""},
			{"bok", "bok", false, "2300500", "2300500", "5", "TR", "2024-01", 1, []wRow{{"", "Bok", "Unique_Title_Requests", 4}}, ""},
		},
	}
	st := newStore(t, w)
	path := filepath.Join(t.TempDir(), "w.duckdb")
	open := func(prefer map[string]string) *transform.Warehouse {
		wh, err := transform.Open(ctx, path, transform.Options{Threads: 1, PreferSource: prefer}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return wh
	}
	wh := open(nil)
	defer func() { wh.Close() }()
	update := func() {
		t.Helper()
		if _, err := wh.Update(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	reopen := func(prefer map[string]string) {
		t.Helper()
		if err := wh.Close(); err != nil {
			t.Fatal(err)
		}
		wh = open(prefer)
		if err := wh.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name string
		do   func()
	}{
		{"first load", update},
		{"the register maps avis:ip-x to another library", func() {
			w.Maps = []wMap{{"avis", "avis:ip-x", "2300500", ""}}
			putRegister(t, st, w)
			update()
		}},
		{"avis prefers its harvests", func() { reopen(map[string]string{"avis": "sushi"}) }},
		{"January restated", func() {
			archiveSource(t, st, wSource{"avis", "avis", false, "2030100", "2030100", "5", "TR", "2024-01", 5, []wRow{
				{"", "Aftenposten", "Total_Item_Requests", 11}, {"avis:ip-x", "VG", "Total_Item_Requests", 8}}, ""})
			update()
		}},
		{"February's harvest restated to 3030", func() {
			archiveSource(t, st, wSource{"avis", "avis", false, "2030100", "2030100", "5", "TR", "2024-02", 6, nil, "3030"})
			update()
		}},
		{"the register forgets the mapping", func() {
			w.Maps = nil
			putRegister(t, st, w)
			update()
		}},
		// January's facts of one platform are summed again, not bok's: the
		// rows the harvest had under avis must go, those under avis-ny come.
		{"avis's January restated under another platform name", func() {
			archiveSource(t, st, wSource{"avis", "avis-ny", false, "2030100", "2030100", "5", "TR", "2024-01", 7, []wRow{
				{"", "Aftenposten", "Total_Item_Requests", 12}, {"avis:ip-x", "VG", "Total_Item_Requests", 9}}, ""})
			update()
		}},
	}
	prev := ""
	for _, s := range steps {
		s.do()
		if n := titlesDiffer(t, wh.DB); n != 0 {
			t.Errorf("after %s: %d rows of mart_title_month differ from a build from scratch", s.name, n)
		}
		if n := differ(t, wh.DB, `SELECT * FROM agg_usage`, aggFromScratch); n != 0 {
			t.Errorf("after %s: %d rows of agg_usage differ from the facts summed from scratch", s.name, n)
		}
		sum := snapshot(t, wh.DB)["mart_title_month"]
		if sum == prev || sum[:2] == "0:" {
			t.Errorf("after %s: mart_title_month is %q: the step changed nothing, so proves nothing", s.name, sum)
		}
		prev = sum
	}

	// A warehouse made before the titles were kept narrow has
	// mart_title_month as a table (here with every count one too many):
	// the next refresh puts the narrow tables and the view in its place.
	for _, q := range []string{
		`CREATE TABLE old_titles AS SELECT * FROM mart_title_month`,
		`DROP VIEW mart_title_month`,
		`DROP TABLE narrow.title_rows`,
		`CREATE TABLE mart_title_month AS SELECT * REPLACE (count + 1 AS count) FROM old_titles`,
	} {
		if _, err := wh.DB.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	reopen(map[string]string{"avis": "sushi"})
	if n := titlesDiffer(t, wh.DB); n != 0 {
		t.Errorf("after an old warehouse's refresh: %d rows of mart_title_month differ from a build from scratch", n)
	}

	// Without title_choice every month is redone, with mart_title_month
	// already the view (which a DROP TABLE would refuse).
	if _, err := wh.DB.Exec(`DROP TABLE title_choice`); err != nil {
		t.Fatal(err)
	}
	reopen(map[string]string{"avis": "sushi"})
	if n := titlesDiffer(t, wh.DB); n != 0 {
		t.Errorf("after a refresh without title_choice: %d rows of mart_title_month differ from a build from scratch", n)
	}
}

// aggFromScratch is agg_usage summed from all the facts at once.
const aggFromScratch = `SELECT month, platform, release, report_id, metric_type, coalesce(data_type, ''), library_id,
  coalesce(institution_id, ''), coalesce(customer_id, ''), unit_key, sum(count)::BIGINT
FROM facts GROUP BY ALL`

// titlesDiffer counts the rows in mart_title_month or the build from
// scratch but not in the other.
func titlesDiffer(t *testing.T, db *sql.DB) int {
	t.Helper()
	return differ(t, db, `SELECT * FROM mart_title_month`, titlesFromScratch)
}

// differ counts the rows in a or b but not in the other (EXCEPT ALL, both ways).
func differ(t *testing.T, db *sql.DB, a, b string) int {
	t.Helper()
	var n int
	q := `SELECT (SELECT count(*) FROM ((` + a + `) EXCEPT ALL (` + b + `)))
		+ (SELECT count(*) FROM ((` + b + `) EXCEPT ALL (` + a + `)))`
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
