package accesslog_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/accesslog"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/schemas"
)

// testConfig is the fixtures' configuration, testdata/logs.yaml.
func testConfig(tb testing.TB) *accesslog.Config {
	tb.Helper()
	f, err := os.Open("testdata/logs.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	cfg, err := accesslog.ParseConfig(f)
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

func newIngester(t *testing.T, st store.Store) *accesslog.Ingester {
	t.Helper()
	cfg := testConfig(t)
	key, err := accesslog.LoadKey(filepath.Join(t.TempDir(), "accesslog.key"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := accesslog.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	robots, err := accesslog.COUNTERRobots()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 4, 1, 3, 0, 0, 0, time.UTC)
	return &accesslog.Ingester{Store: st, Config: cfg, Keys: keys, Robots: robots, Now: func() time.Time { at = at.Add(time.Second); return at }}
}

// TestIngestFixtures checks every metric of the hand-counted fixtures, the
// bad lines by file and line, that the same log twice counts once, and that
// no pseudonym reaches a unit.
func TestIngestFixtures(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	in := newIngester(t, st)
	type stats struct{ lines, events, robots, ignored, bad int64 }
	for _, tc := range []struct {
		file, source string
		want         stats
		badLines     []int64
	}{
		{"testdata/ezproxy.log", "ezproxy", stats{12, 8, 1, 1, 2}, []int64{11, 12}},
		{"testdata/sso.jsonl", "sso", stats{9, 5, 0, 1, 3}, []int64{7, 8, 9}},
		{"testdata/ezproxy.log", "ezproxy", stats{12, 8, 1, 1, 2}, []int64{11, 12}}, // again: a duplicate
	} {
		res, months, err := in.IngestFile(ctx, tc.file, tc.source)
		if err != nil {
			t.Fatal(err)
		}
		s := res.Stats
		if got := (stats{s.Lines, s.Events, s.Robots, s.Ignored, s.Bad}); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.file, got, tc.want)
		}
		var lines []int64
		for _, b := range s.BadLines {
			lines = append(lines, b.Line)
			if b.File != tc.file {
				t.Errorf("bad line names file %q, want %q", b.File, tc.file)
			}
		}
		if !equal(lines, tc.badLines) {
			t.Errorf("%s: bad lines %v, want %v", tc.file, lines, tc.badLines)
		}
		if res.Duplicate != (len(months) == 0) {
			t.Errorf("%s: duplicate %v with months %v", tc.file, res.Duplicate, months)
		}
	}
	units, err := in.Recount(ctx, bibstat.Month{Year: 2026, Mon: 3})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]int64{
		"avisarkiv/2030100": {accesslog.SearchesPlatform: 1, accesslog.TotalItemInvestigations: 5, accesslog.UniqueItemInvestigations: 3,
			accesslog.TotalItemRequests: 3, accesslog.UniqueItemRequests: 2},
		"avisarkiv/2180000": {accesslog.TotalItemInvestigations: 2, accesslog.UniqueItemInvestigations: 1},
		"filmbib/2030100": {accesslog.SearchesPlatform: 1, accesslog.TotalItemInvestigations: 2, accesslog.UniqueItemInvestigations: 1,
			accesslog.TotalItemRequests: 1, accesslog.UniqueItemRequests: 1},
	}
	if len(units) != len(want) {
		t.Fatalf("%d units, want %d: %+v", len(units), len(want), units)
	}
	for _, u := range units {
		w := want[u.Unit.Platform+"/"+string(u.Unit.Library)]
		for _, m := range accesslog.Metrics {
			if got := u.Counts.Get(m); got != w[m] {
				t.Errorf("%v %s = %d, want %d", u.Unit, m, got, w[m])
			}
		}
		rows := readUnit(t, st, u.Key)
		for _, r := range rows {
			if r.Count != w[r.MetricType] || r.Platform != u.Unit.Platform || r.CustomerID != string(u.Unit.Library) || r.Month.Format("2006-01") != "2026-03" {
				t.Errorf("%s: row %s %s %s %d", u.Key, r.Platform, r.CustomerID, r.MetricType, r.Count)
			}
		}
		if len(rows) != len(w) {
			t.Errorf("%s: %d rows, want %d", u.Key, len(rows), len(w))
		}
	}
	assertNoPseudonym(t, st)
	decl, _ := st.List(ctx, bibstat.AccessLogPrefix+"config/")
	raw, _ := os.ReadFile("testdata/logs.yaml")
	if len(decl) != 1 {
		t.Fatalf("declarations archived: %v", decl)
	}
	if got, _ := store.ReadAll(ctx, st, decl[0], 1<<20); !bytes.Equal(got, raw) {
		t.Errorf("the declaration %s is not byte-exact", decl[0])
	}
}

// assertNoPseudonym: the pseudonyms are in the archived events only; no
// unit's Parquet or sidecar holds one (nor a real user id).
func assertNoPseudonym(t *testing.T, st store.Store) {
	t.Helper()
	ctx := context.Background()
	var pseudonyms []string
	evKeys, _ := st.List(ctx, bibstat.AccessLogPrefix+"events/")
	for _, k := range evKeys {
		b, _ := store.ReadAll(ctx, st, k, 1<<20)
		_ = accesslog.ReadEvents(bytes.NewReader(b), func(ev *accesslog.Event) error {
			pseudonyms = append(pseudonyms, ev.User, ev.Session)
			return nil
		})
		if strings.Contains(string(b), "kort1") || strings.Contains(string(b), "u-1") {
			t.Errorf("%s holds a real user id", k)
		}
	}
	if len(pseudonyms) == 0 {
		t.Fatal("no events archived")
	}
	all, _ := st.List(ctx, "")
	for _, k := range all {
		if strings.HasPrefix(k, bibstat.AccessLogPrefix+"events/") {
			continue
		}
		b, _ := store.ReadAll(ctx, st, k, 1<<20)
		for _, p := range pseudonyms {
			if p != "" && bytes.Contains(b, []byte(p[:12])) {
				t.Errorf("%s reveals a pseudonym", k)
			}
		}
	}
}

func readUnit(t *testing.T, st store.Store, key string) []schemas.Row {
	t.Helper()
	ctx := context.Background()
	b, err := store.ReadAll(ctx, st, bibstat.SidecarKey(key), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	side, err := bibstat.DecodeSidecar(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if side.Source != accesslog.SourceName || side.State != bibstat.StateOK || side.ParsedKey == "" {
		t.Errorf("sidecar %+v", side)
	}
	pq, err := store.ReadAll(ctx, st, side.ParsedKey, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := file.NewParquetReader(bytes.NewReader(pq))
	if err != nil {
		t.Fatal(err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	if tbl.NumCols() != int64(len(schemas.Usage.Fields())) {
		t.Fatalf("schema %v", tbl.Schema())
	}
	var rows []schemas.Row
	tr := newTableReader(tbl)
	for tr.Next() {
		rec := tr.RecordBatch()
		for i := range int(rec.NumRows()) {
			var r schemas.Row
			r.SetFrom(rec, i)
			r.MetricType, r.Platform, r.CustomerID = strings.Clone(r.MetricType), strings.Clone(r.Platform), strings.Clone(r.CustomerID)
			rows = append(rows, r)
		}
	}
	return rows
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
