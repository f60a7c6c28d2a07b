package transform

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/schemas"
)

// login is one metric of an access-log unit.
type login struct {
	metric string
	count  int64
}

// archiveLog archives an access-log unit as ingest/accesslog leaves one:
// a parsed Parquet of COUNTER 5.1 PR rows naming the library by ISIL, and
// a sidecar; no raw object (its raw is the archived events).
func archiveLog(t *testing.T, st store.Store, platform string, lib bibstat.LibraryID, month string, at time.Time, ls ...login) {
	t.Helper()
	m, err := bibstat.ParseMonth(month)
	if err != nil {
		t.Fatal(err)
	}
	key := bibstat.AccessLogUnitPrefix(platform, lib, m) + at.UTC().Format("20060102T150405.000000000Z") + ".accesslog"
	var rows []schemas.Row
	for _, l := range ls {
		rows = append(rows, schemas.Row{Release: "5.1", ReportID: "PR", MetricType: l.metric, CustomerID: string(lib),
			InstitutionID: "ISIL:NO-" + string(lib), Platform: platform, AccessMethod: "Regular", DataType: "Database",
			SourceKey: key, Month: m.First(), Count: l.count})
	}
	pq, err := schemas.ParquetOf(rows)
	if err != nil {
		t.Fatal(err)
	}
	side := bibstat.Sidecar{Key: key, Source: bibstat.SourceAccessLog, Platform: platform, Credential: string(lib), Library: lib,
		Report: "pr", Month: month, HarvestedAt: at, State: bibstat.StateOK, Release: "5.1", Rows: int64(len(rows)),
		SHA256: key, ParsedKey: bibstat.ParsedKey(key, schemas.Version), ParserVersion: schemas.Version}
	if len(rows) == 0 {
		side.State = bibstat.StateZero
	}
	js, err := bibstat.EncodeSidecar(side)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string][]byte{side.ParsedKey: pq, bibstat.SidecarKey(key): js} {
		if err := st.Put(context.Background(), k, bytes.NewReader(v)); err != nil {
			t.Fatal(err)
		}
	}
}

// vendorPR is a SUSHI harvest of lib's PR on avis.
func vendorPR(lib bibstat.LibraryID, month string, uses ...use) harvest {
	return harvest{platform: "avis", cred: string(lib), lib: lib, report: "pr", month: month, at: t0}.with(uses...)
}

func tir(n int64) use        { return use{"5.1", "PR", "Total_Item_Requests", "", n} }
func tirLogin(n int64) login { return login{"Total_Item_Requests", n} }

var (
	countLog    = map[string]string{"avis": "access-log"}
	countVendor = map[string]string{"avis": "counter"}
)

// TestOneClassCounts: per cell the platform's count_source decides which
// class of source counts, the vendor's COUNTER reports or the access log;
// the other is set aside with a plain reason, never added; a month the
// access log lacks counts the vendor's report, and says so.
func TestOneClassCounts(t *testing.T) {
	const lib = bibstat.LibraryID("2030100")
	type logUnit struct {
		lib   bibstat.LibraryID
		at    time.Time
		count int64
	}
	cases := []struct {
		name   string
		vendor []harvest
		logs   []logUnit
		count  map[string]string
		want   int64  // the library's January Total_Item_Requests, every mart alike
		rows   bool   // whether the library has a mart row at all (no row is not 0)
		reason string // a reason mart_sources must give
	}{
		{"counter, both present: the vendor counts", []harvest{vendorPR(lib, "2024-01", tir(70))}, []logUnit{{lib, t0, 50}},
			nil, 70, true, "set aside: platform counts the vendor's COUNTER reports; the access log is kept for comparison"},
		{"counter named, both present: the vendor counts", []harvest{vendorPR(lib, "2024-01", tir(70))}, []logUnit{{lib, t0, 50}},
			countVendor, 70, true, "the access log is kept for comparison"},
		{"access-log, both present: the log counts", []harvest{vendorPR(lib, "2024-01", tir(70))}, []logUnit{{lib, t0, 50}},
			countLog, 50, true, "set aside: platform counts the access log; the vendor's report is kept for comparison"},
		{"access-log, no log for the month: the vendor counts, and says so", []harvest{vendorPR(lib, "2024-01", tir(70))}, nil,
			countLog, 70, true, "counted: no access log for this month; the vendor's report counts"},
		{"counter, only the log: nothing counts, no row", nil, []logUnit{{lib, t0, 50}},
			nil, 0, false, "platform counts the vendor's COUNTER reports"},
		{"access-log, the month's log has no use by the library: the vendor's is set aside", []harvest{vendorPR(lib, "2024-01", tir(70))},
			[]logUnit{{"2300500", t0, 9}}, countLog, 0, false, "which has no use by this library this month"},
		{"access-log, a newer count of the log supersedes the older", []harvest{vendorPR(lib, "2024-01", tir(70))},
			[]logUnit{{lib, t0, 50}, {lib, t1, 55}}, countLog, 55, true, "platform counts the access log"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := registerOnly(t)
			for _, h := range c.vendor {
				archive(t, st, h)
			}
			for _, l := range c.logs {
				archiveLog(t, st, "avis", l.lib, "2024-01", l.at, tirLogin(l.count))
			}
			w := loadWorld(t, st, Options{CountSource: c.count})
			if n := query[int64](t, w.DB, `SELECT count(*) FROM mart_library_month WHERE library_id = ?`, string(lib)); (n > 0) != c.rows {
				t.Errorf("%d mart rows of the library, want rows: %v", n, c.rows)
			}
			for what, q := range map[string]string{
				"mart_library_month": `SELECT coalesce(sum(total), 0)::BIGINT FROM mart_library_month WHERE library_id = ?`,
				"facts_chosen":       `SELECT coalesce(sum(count), 0)::BIGINT FROM facts_chosen WHERE target_id = ?`,
				"usage_chosen":       `SELECT coalesce(sum(count), 0)::BIGINT FROM usage_chosen WHERE target_id = ?`,
			} {
				if n := query[int64](t, w.DB, q, string(lib)); n != c.want {
					t.Errorf("%s: %d, want %d", what, n, c.want)
				}
			}
			// Whatever counts, the nation never holds both classes at once.
			national := query[int64](t, w.DB, `SELECT coalesce(sum(total), 0)::BIGINT FROM mart_national_month`)
			counted := query[int64](t, w.DB, `SELECT coalesce(sum(a.count), 0)::BIGINT FROM agg_usage a
				JOIN source_choice c USING (unit_key, platform, month, report_id) WHERE c.counted`)
			if national != counted {
				t.Errorf("national %d, counted sources %d", national, counted)
			}
			reasons := query[string](t, w.DB, `SELECT string_agg(reason, ' | ' ORDER BY reason) FROM mart_sources`)
			if !strings.Contains(reasons, c.reason) {
				t.Errorf("mart_sources says %q, want %q", reasons, c.reason)
			}
			if n := query[int64](t, w.DB, `SELECT count(*) FROM (SELECT target_id, platform, month, report_id FROM source_choice
				WHERE counted GROUP BY ALL HAVING count(DISTINCT source_class) > 1)`); n != 0 {
				t.Errorf("%d cells count both classes", n)
			}
			ex, err := w.Explain(context.Background(), Cell{Kind: "library", ID: string(lib), Platform: "avis", Month: "2024-01"})
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			if err := ex.WriteText(&b); err != nil {
				t.Fatal(err)
			}
			if c.vendor != nil && len(c.logs) > 0 && c.logs[0].lib == lib && !strings.Contains(b.String(), c.reason) {
				t.Errorf("explain does not say %q:\n%s", c.reason, b.String())
			}
		})
	}
}

// TestPoolSetAsideWhereTheLogCounts: on a platform that counts the access
// log, a pool's vendor usage of a month the log has is set aside: the log
// counts each use under the patron's home library already.
func TestPoolSetAsideWhereTheLogCounts(t *testing.T) {
	st := poolWorld(t, "population")
	archive(t, st, harvest{platform: "avis", cred: "consortium", report: "pr", month: "2024-01", at: t0}.with(
		use{"5.1", "PR", "Total_Item_Requests", "avis:ip-pool", 100}))
	archiveLog(t, st, "avis", "2030100", "2024-01", t0, tirLogin(30))
	w := loadWorld(t, st, Options{CountSource: countLog})
	if n := query[int64](t, w.DB, `SELECT coalesce(sum(total), 0)::BIGINT FROM mart_national_month`); n != 30 {
		t.Errorf("national %d, want the log's 30", n)
	}
	if n := query[int64](t, w.DB, `SELECT count(*) FROM mart_pool_allocation`); n != 0 {
		t.Errorf("%d pool allocations of usage set aside", n)
	}
	why := query[string](t, w.DB, `SELECT reason FROM mart_sources WHERE target_kind = 'pool'`)
	if !strings.Contains(why, "under the patron's home library") {
		t.Errorf("the pool's vendor usage: %q", why)
	}
}

// poolWorld is the register with pool p1 of 2030100 and 2300500 under rule,
// fed by avis usage under Institution_ID avis:ip-pool.
func poolWorld(t *testing.T, rule string) store.Store {
	st := registerOnly(t)
	metric := ""
	if rule == RuleLogins {
		metric = "Total_Item_Requests"
	}
	for k, v := range map[string]string{
		bibstat.InstitutionsKey: "platform,id_kind,id_value,library_id,pool_id\navis,institution_id,avis:ip-pool,,p1\n",
		bibstat.PoolsKey:        "pool_id,name,rule,metric_type,members\np1,Shared," + rule + "," + metric + ",2030100 2300500\n",
	} {
		if err := st.Put(context.Background(), k, strings.NewReader(v)); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// TestPoolRuleLogins: a pool's usage is allocated by its members'
// login-measured usage of the rule's metric that year, whether or not
// the logins' platform counts them; bases of 0 split equally and say so.
func TestPoolRuleLogins(t *testing.T) {
	pooled := func(st store.Store) {
		archive(t, st, harvest{platform: "avis", cred: "consortium", report: "pr", month: "2024-01", at: t0}.with(
			use{"5.1", "PR", "Total_Item_Requests", "avis:ip-pool", 100}))
	}
	t.Run("by logins", func(t *testing.T) {
		st := poolWorld(t, RuleLogins)
		pooled(st)
		// Logins on another platform, which counts the vendor: they still measure.
		archiveLog(t, st, "film", "2030100", "2024-03", t0, tirLogin(30), login{"Unique_Item_Requests", 1000})
		archiveLog(t, st, "film", "2300500", "2024-05", t0, tirLogin(10))
		archiveLog(t, st, "film", "2300500", "2023-05", t0, tirLogin(500)) // another year
		w := loadWorld(t, st, Options{})
		got := query[string](t, w.DB, `SELECT string_agg(library_id || ' ' || rule || ' ' || basis::BIGINT || '/' || basis_total::BIGINT || ' ' || share,
			', ' ORDER BY library_id) FROM pool_shares WHERE year = 2024`)
		if want := "2030100 logins 30/40 0.75, 2300500 logins 10/40 0.25"; got != want {
			t.Errorf("pool_shares %s, want %s", got, want)
		}
		if n := query[float64](t, w.DB, `SELECT allocated FROM mart_pool_allocation WHERE library_id = '2030100'`); n != 75 {
			t.Errorf("2030100 allocated %v, want 75", n)
		}
	})
	t.Run("no logins: equal, and says so", func(t *testing.T) {
		st := poolWorld(t, RuleLogins)
		pooled(st)
		w := loadWorld(t, st, Options{})
		if got := query[string](t, w.DB, `SELECT string_agg(DISTINCT rule || ' ' || share, ',') FROM pool_shares`); got != "equal (bases were 0) 0.5" {
			t.Errorf("pool_shares %s", got)
		}
	})
}

func TestPoolsCSVRuleLogins(t *testing.T) {
	pools, err := ReadPoolsCSV(strings.NewReader("pool_id,rule,metric_type,members\np1,logins,Total_Item_Requests,2030100\n"))
	if err != nil || len(pools) != 1 || pools[0].Rule != RuleLogins || pools[0].Metric != "Total_Item_Requests" {
		t.Errorf("pools %+v, %v", pools, err)
	}
	if _, err := ReadPoolsCSV(strings.NewReader("pool_id,rule,members\np1,logins,2030100\n")); err == nil || !strings.Contains(err.Error(), "rule logins needs metric_type") {
		t.Errorf("a logins pool without metric_type: %v", err)
	}
}

// comparisonRow is one row of mart_source_comparison, NULLs as -1.
type comparisonRow struct {
	month                string
	vendor, login, delta int64
	counted              string
}

// TestSourceComparison: the vendor's figure beside the login-measured one
// per library, month and metric; a side missing is NULL (a gap, never 0),
// a vendor's 3030 is its 0; only platforms with both sources in some month.
func TestSourceComparison(t *testing.T) {
	const lib = bibstat.LibraryID("2030100")
	st := registerOnly(t)
	archive(t, st, vendorPR(lib, "2024-01", tir(70)))
	archiveLog(t, st, "avis", lib, "2024-01", t0, tirLogin(50))
	archive(t, st, vendorPR(lib, "2024-02", tir(40))) // no log: before logging began
	archiveLog(t, st, "avis", lib, "2024-03", t0, tirLogin(20))
	z := vendorPR(lib, "2024-04")
	z.release = "5.1"
	archive(t, st, z) // the vendor's "no usage"
	archiveLog(t, st, "avis", lib, "2024-04", t0, tirLogin(5))
	// An R5 upload of January, newer: within the vendor's class R5.1 still wins.
	up := upload("avisco", lib, "pr", "2024-01", "later", use{"5", "PR", "Total_Item_Requests", "", 999})
	up.platform, up.rows[0].Platform = "avis", "avis"
	archive(t, st, up)
	// A platform with only the vendor's usage has no comparison.
	archive(t, st, harvest{platform: "film", cred: string(lib), lib: lib, report: "pr", month: "2024-01", at: t0}.with(tir(3)))
	markZero(t, st, z)

	for _, count := range []map[string]string{nil, countLog} {
		w := loadWorld(t, st, Options{CountSource: count})
		rows, err := w.DB.Query(`SELECT strftime(month, '%Y-%m'), coalesce(vendor_count, -1), coalesce(login_count, -1),
			coalesce(difference, -1), counted_source FROM mart_source_comparison
			WHERE library_id = ? AND platform = 'avis' AND metric_type = 'Total_Item_Requests' ORDER BY month`, string(lib))
		if err != nil {
			t.Fatal(err)
		}
		var got []comparisonRow
		err = scanAll(rows, func(r *sql.Rows) error {
			var c comparisonRow
			got = append(got, c)
			return r.Scan(&got[len(got)-1].month, &got[len(got)-1].vendor, &got[len(got)-1].login, &got[len(got)-1].delta, &got[len(got)-1].counted)
		})
		if err != nil {
			t.Fatal(err)
		}
		counted := "counter"
		if count != nil {
			counted = "access-log"
		}
		want := []comparisonRow{
			{"2024-01", 70, 50, 20, counted},
			{"2024-02", 40, -1, -1, "counter"},
			{"2024-03", -1, 20, -1, counted},
			{"2024-04", 0, 5, -5, counted},
		}
		if len(got) != len(want) {
			t.Fatalf("count_source %v: comparison %v, want %v", count, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("count_source %v: %v, want %v", count, got[i], want[i])
			}
		}
		if n := query[int64](t, w.DB, `SELECT count(*) FROM mart_source_comparison WHERE platform <> 'avis'`); n != 0 {
			t.Errorf("%d comparison rows of a platform without an access log", n)
		}
	}
}

// markZero rewrites h's sidecar as the vendor's 3030: state zero, no rows.
func markZero(t *testing.T, st store.Store, h harvest) {
	t.Helper()
	m, _ := bibstat.ParseMonth(h.month)
	key := bibstat.Unit{Platform: h.platform, Credential: h.cred, Report: h.report, Month: m}.RawKey(h.at, "json")
	rc, err := st.Get(context.Background(), bibstat.SidecarKey(key))
	if err != nil {
		t.Fatal(err)
	}
	side, err := bibstat.DecodeSidecar(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	side.State = bibstat.StateZero
	js, err := bibstat.EncodeSidecar(side)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(context.Background(), bibstat.SidecarKey(key), bytes.NewReader(js)); err != nil {
		t.Fatal(err)
	}
}

// TestCountSourceIsRecorded: every Refresh writes the options' count_source;
// a warehouse opened without them keeps what was recorded, so a command
// that has no config (a report over the warehouse) never flips the class.
func TestCountSourceIsRecorded(t *testing.T) {
	ctx := context.Background()
	const lib = bibstat.LibraryID("2030100")
	st := registerOnly(t)
	archive(t, st, vendorPR(lib, "2024-01", tir(70)))
	archiveLog(t, st, "avis", lib, "2024-01", t0, tirLogin(50))
	path := filepath.Join(t.TempDir(), "w.duckdb")
	for _, step := range []struct {
		count map[string]string
		want  int64
	}{{countLog, 50}, {nil, 50}, {countVendor, 70}, {map[string]string{}, 70}, {countLog, 50}} {
		w, err := Open(ctx, path, Options{Threads: 2, CountSource: step.count}, quiet)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Update(ctx, st); err != nil {
			t.Fatal(err)
		}
		if err := w.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if n := query[int64](t, w.DB, `SELECT sum(total)::BIGINT FROM mart_library_month WHERE library_id = ?`, string(lib)); n != step.want {
			t.Errorf("opened with count_source %v: %d, want %d", step.count, n, step.want)
		}
		w.Close()
	}
}
