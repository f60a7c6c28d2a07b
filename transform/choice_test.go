package transform

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/schemas"
)

// registerOnly is a store holding the test register and nothing harvested.
func registerOnly(t *testing.T) store.Store {
	t.Helper()
	st := store.NewMemory()
	putFile(t, st, bibstat.LibrariesXMLKey, "../testdata/library-register/basebibliotek.xml")
	return st
}

// upload is an uploaded unit of vendor for lib, its rows naming the
// library by ISIL as uploads do.
func upload(vendor string, lib bibstat.LibraryID, report bibstat.ReportID, month string, at string, uses ...use) harvest {
	h := harvest{platform: "film", vendor: vendor, cred: "upload", lib: lib, report: report, month: month, at: t0.Add(dur(at))}
	for i := range uses {
		if uses[i].inst == "" {
			uses[i].inst = "ISIL:NO-" + string(lib)
		}
	}
	return h.with(uses...)
}

// dur places an upload in time: "", "later" or "latest".
func dur(s string) time.Duration {
	switch s {
	case "later":
		return 24 * time.Hour
	case "latest":
		return 48 * time.Hour
	}
	return 0
}

func loadWorld(t *testing.T, st store.Store, opts Options) *Warehouse {
	t.Helper()
	opts.Threads = 2
	w, err := Open(context.Background(), filepath.Join(t.TempDir(), "w.duckdb"), opts, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	if _, err := w.Update(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	return w
}

const janTotal = `SELECT coalesce(sum(count), 0) FROM mart_library_month WHERE library_id = ? AND platform = 'film'
	AND metric_type = 'Total_Item_Requests' AND month = DATE '2024-01-01'`

// TestOneUseOneCount: two sources of the same cell are resolved by the
// rule of choice (release, then the preferred source, then the newest),
// never added, and mart_sources says which counted and why.
func TestOneUseOneCount(t *testing.T) {
	lib := bibstat.LibraryID("2030100")
	r51 := upload("filmco", lib, "tr", "2024-01", "", use{"5.1", "TR", "Total_Item_Requests", "", 50}, use{"5.1", "TR", "Unique_Item_Requests", "", 20})
	r5 := upload("filmco", lib, "tr", "2024-01", "later", use{"5", "TR", "Total_Item_Requests", "", 300}, use{"5", "TR", "Unique_Item_Requests", "", 100})
	pr := func(vendor, at string, n int64) harvest {
		return upload(vendor, lib, "pr", "2024-01", at, use{"5", "PR", "Total_Item_Requests", "", n})
	}
	sushi := harvest{platform: "film", cred: string(lib), lib: lib, report: "pr", month: "2024-01", at: t0.Add(24 * time.Hour)}.with(
		use{"5", "PR", "Total_Item_Requests", "", 70})
	cases := []struct {
		name   string
		hs     []harvest
		prefer map[string]string
		want   int64
		aside  string // a reason of a set-aside source, when one must be
	}{
		{"an older release uploaded later never replaces R5.1", []harvest{r51, r5}, nil, 50, "release 5 set aside"},
		{"the same file under two vendor ids counts once", []harvest{pr("filmco", "", 40), pr("filmco-no", "later", 40)}, nil, 40, "older copy"},
		{"a harvest and an upload of the month: the newest", []harvest{pr("filmco", "", 40), sushi}, nil, 70, "older copy"},
		{"a harvest and an upload: the platform's preferred source", []harvest{pr("filmco", "latest", 40), sushi}, map[string]string{"film": "sushi"}, 70, "prefers source sushi"},
		{"a late byte-identical copy never undoes a restatement", []harvest{withSHA(pr("filmco", "", 20), "aa"), withSHA(pr("filmco", "later", 25), "bb"),
			withSHA(pr("filmco-no", "latest", 20), "aa")}, nil, 25, "a copy of raw/upload/filmco/pr/2030100/2024-01/20240203T010000Z.tsv, superseded by"},
		{"a late copy of a month restated to no usage counts nothing", []harvest{withSHA(pr("filmco", "", 20), "aa"), withSHA(zero(pr("filmco", "later", 0)), "zz"),
			withSHA(pr("filmco-no", "latest", 20), "aa")}, nil, 0, "a copy of"},
		{"the preferred vendor of two", []harvest{pr("filmco", "", 40), pr("filmco-no", "later", 41)}, map[string]string{"film": "upload/filmco"}, 40, "prefers source upload/filmco"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := registerOnly(t)
			for _, h := range c.hs {
				archive(t, st, h)
			}
			w := loadWorld(t, st, Options{PreferSource: c.prefer})
			if n := query[int64](t, w.DB, janTotal, string(lib)); n != c.want {
				t.Errorf("January Total_Item_Requests %d, want %d", n, c.want)
			}
			if n := query[int64](t, w.DB, `SELECT coalesce(sum(total), 0) FROM mart_national_month WHERE platform = 'film' AND metric_type = 'Total_Item_Requests'`); n != c.want {
				t.Errorf("national %d, want %d", n, c.want)
			}
			counted := query[int64](t, w.DB, `SELECT count(*) FILTER (WHERE counted) FROM mart_sources WHERE target_id = ? AND platform = 'film'`, string(lib))
			reasons := query[string](t, w.DB, `SELECT string_agg(reason, ' | ') FROM mart_sources WHERE NOT counted`)
			if (counted == 0) != (c.want == 0) || !strings.Contains(reasons, c.aside) {
				t.Errorf("mart_sources: %d counted, set aside because %q, want one saying %q", counted, reasons, c.aside)
			}
			if n := query[int64](t, w.DB, `SELECT coalesce(sum(count), 0) FROM facts_chosen WHERE metric_type = 'Total_Item_Requests'`); n != c.want {
				t.Errorf("facts_chosen %d, want %d", n, c.want)
			}
		})
	}
}

// TestCopyUnderAnotherVendorChangesNothing: for every world the tests
// build, adding an identical copy of an upload under another vendor id
// leaves every mart as it was.
func TestCopyUnderAnotherVendorChangesNothing(t *testing.T) {
	st := world(t)
	before := martSums(t, loadWorld(t, st, Options{}))
	archive(t, st, upload("film-copy", "2030100", "pr", "2024-01", "latest", use{"5", "PR", "Total_Item_Requests", "film:42", 4}))
	after := martSums(t, loadWorld(t, st, Options{}))
	for _, m := range Marts {
		if m == "mart_sources" {
			continue // it names the copy, set aside
		}
		if before[m] != after[m] {
			t.Errorf("%s: %s, with the copy %s", m, before[m], after[m])
		}
	}
}

func martSums(t *testing.T, w *Warehouse) map[string]string {
	out := map[string]string{}
	for _, m := range Marts {
		out[m] = query[string](t, w.DB, `SELECT count(*) || ':' || coalesce(md5(string_agg(t::VARCHAR, '|' ORDER BY t::VARCHAR)), '') FROM `+m+` t`)
	}
	return out
}

// TestPopulationDefinedOnce: a library under old Ålesund (1507) serves
// both successors; a merged municipality has its predecessors' sum; pools
// allocate by the same figure.
func TestPopulationDefinedOnce(t *testing.T) {
	ctx := context.Background()
	st := world(t)
	w := loadWorld(t, st, Options{})
	if n := query[int64](t, w.DB, `SELECT population FROM library_population WHERE library_id = '2150700' AND year = 2024`); n != 58509+9357 {
		t.Errorf("old Ålesund library: %d inhabitants, want %d (1508 + 1580)", n, 58509+9357)
	}

	// A merged municipality: 3301 made of two 2023 codes whose 2023
	// figures are recorded in the old structure.
	for _, q := range []string{
		`DELETE FROM municipality_successors WHERE municipality_2024 = '3301'`,
		`INSERT INTO municipality_successors VALUES ('9901', 'A', '30', 'Viken', '3301', 'merged', 1, 'merged'),
			('9902', 'B', '30', 'Viken', '3301', 'merged', 1, 'merged')`,
		`INSERT INTO population VALUES ('9901', 2023, 60000, 'test'), ('9902', 2023, 40000, 'test')`,
	} {
		if _, err := w.DB.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if n := query[int64](t, w.DB, `SELECT population FROM library_population WHERE library_id = '3300501' AND year = 2023`); n != 100000 {
		t.Errorf("merged municipality in 2023: %d inhabitants, want the predecessors' 100000", n)
	}
	// The pool of 2030100 (Oslo) and 2300500 allocates by library_population.
	if d := query[float64](t, w.DB, `SELECT max(abs(s.basis - p.population)) FROM pool_shares s
		JOIN library_population p USING (library_id, year)`); d != 0 {
		t.Errorf("pool bases differ from library_population by %v", d)
	}
}

// TestUnregisteredInstitutionStaysVisible: usage of an ISIL not in the
// register is unattributed with the vendor's id, and moves to the library
// when the register names it, without a new harvest.
func TestUnregisteredInstitutionStaysVisible(t *testing.T) {
	ctx := context.Background()
	st := registerOnly(t)
	archive(t, st, upload("filmco", "9999999", "pr", "2024-01", "", use{"5", "PR", "Total_Item_Requests", "", 12}))
	w := loadWorld(t, st, Options{})
	if n := query[int64](t, w.DB, `SELECT count(*) FROM mart_library_month WHERE library_id = '9999999'`); n != 0 {
		t.Errorf("usage credited to a library not in the register: %d rows", n)
	}
	if id := query[string](t, w.DB, `SELECT institution_id FROM mart_unattributed WHERE count = 12`); id != "ISIL:NO-9999999" {
		t.Errorf("unattributed under %q, want the vendor's id", id)
	}
	if n := query[int64](t, w.DB, `SELECT unattributed - attributed FROM mart_national_month`); n != 12 {
		t.Errorf("national unattributed - attributed = %d, want 12", n)
	}
	if err := w.PutLibraries(ctx, []Library{{ID: "9999999", Municipality: "0301"}}); err != nil {
		t.Fatal(err)
	}
	if n := query[int64](t, w.DB, `SELECT sum(count) FROM mart_library_month WHERE library_id = '9999999'`); n != 12 {
		t.Errorf("after the register names it: %d, want 12", n)
	}
	if n := query[int64](t, w.DB, `SELECT count(*) FROM mart_unattributed`); n != 0 {
		t.Errorf("still %d unattributed rows", n)
	}
}

// TestTitleMartFollowsTheRules: one title's R4, R5 and R5.1 are never
// added, and a pool's titles are the pool's, not the uploader's.
func TestTitleMartFollowsTheRules(t *testing.T) {
	st := registerOnly(t)
	if err := st.Put(context.Background(), bibstat.InstitutionsKey, strings.NewReader(
		"platform,id_kind,id_value,library_id,pool_id\n*,institution_id,film:ip-pool,,p1\n")); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(context.Background(), bibstat.PoolsKey, strings.NewReader(
		"pool_id,name,rule,metric_type,members\np1,Shared,population,,2030100 2300500\n")); err != nil {
		t.Fatal(err)
	}
	title := func(h harvest, release, report, inst string, n int64) harvest {
		m, _ := bibstat.ParseMonth(h.month)
		h.rows = append(h.rows, schemas.Row{Release: release, ReportID: report, MetricType: "Total_Item_Requests", Title: "Aftenposten",
			InstitutionID: inst, Platform: h.platform, Month: m.First(), Count: n})
		return h
	}
	lib := bibstat.LibraryID("2030100")
	base := func(report bibstat.ReportID) harvest {
		return harvest{platform: "film", cred: string(lib), lib: lib, report: report, month: "2024-01", at: t0}
	}
	archive(t, st, title(base("jr1"), "4", "JR1", "", 1000))
	archive(t, st, title(base("tr"), "5", "TR", "", 110))
	r51 := base("tr")
	r51.at = t1
	archive(t, st, title(title(r51, "5.1", "TR", "", 650), "5.1", "TR", "film:ip-pool", 1000))
	w := loadWorld(t, st, Options{})
	if n := query[int64](t, w.DB, `SELECT sum(count) FROM mart_title_month WHERE target_kind = 'library' AND target_id = '2030100'`); n != 650 {
		t.Errorf("the library's title: %d, want R5.1's 650", n)
	}
	if n := query[int64](t, w.DB, `SELECT sum(count) FROM mart_title_month WHERE target_kind = 'pool' AND target_id = 'p1'`); n != 1000 {
		t.Errorf("the pool's title: %d, want 1000", n)
	}
}

func withSHA(h harvest, sha string) harvest {
	h.sha = sha
	return h
}

// zero makes h the vendor's "no usage": no rows.
func zero(h harvest) harvest {
	h.release, h.rows = h.rows[0].Release, nil
	return h
}

// TestDataTypeIsAGrain: the vendor's Data_Type reaches every usage mart,
// each data type its own row; empty only where the vendor gave none.
func TestDataTypeIsAGrain(t *testing.T) {
	st := registerOnly(t)
	h := upload("filmco", "2030100", "pr", "2024-01", "", use{"5.1", "PR", "Total_Item_Requests", "", 30}, use{"5.1", "PR", "Total_Item_Requests", "", 5})
	h.rows[0].DataType, h.rows[1].DataType = "Newspaper_or_Newsletter", "Book"
	archive(t, st, h)
	w := loadWorld(t, st, Options{})
	for _, m := range []string{"mart_library_month", "mart_county_month", "mart_county_month_current", "mart_national_month"} {
		got := query[string](t, w.DB, `SELECT string_agg(data_type || '=' || total::BIGINT, ',' ORDER BY data_type) FROM `+m)
		if got != "Book=5,Newspaper_or_Newsletter=30" {
			t.Errorf("%s: %s, want Book=5,Newspaper_or_Newsletter=30", m, got)
		}
	}
}
