package upload

import (
	"bytes"
	"context"
	"path"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/store"
)

func loadTestMappings(t *testing.T) map[string]*Mapping {
	t.Helper()
	ms, err := LoadMappings("../../testdata/mappings")
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	return readFixtureIn(t, vendorFiles, name)
}

func readFixtureIn(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func clock() func() time.Time {
	t := time.Date(2025, 4, 3, 8, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Second); return t }
}

func TestFixturesDryRun(t *testing.T) {
	ms := loadTestMappings(t)
	tests := []struct {
		file, vendor string
		rows         int64
		units        int
		totals       map[bibstat.LibraryID]map[string]int64
	}{
		{"avisleser-2025q1.csv", "avisleser", 22, 12, map[bibstat.LibraryID]map[string]int64{
			"2030100": {"Total_Item_Investigations": 3737, "Total_Item_Requests": 37735},
			"2120100": {"Total_Item_Investigations": 2620, "Total_Item_Requests": 24168},
			"2160100": {"Total_Item_Investigations": 1267, "Total_Item_Requests": 11272},
			"2190200": {"Total_Item_Investigations": 904, "Total_Item_Requests": 7448},
		}},
		{"filmstrom-2025q1.xlsx", "filmstrom", 26, 9, nil},
		{"leksikon-2025.tsv", "leksikon", 70, 36, map[bibstat.LibraryID]map[string]int64{
			"2030100": {"Total_Item_Requests": 45597, "Searches_Platform": 12336},
			"2080600": {"Total_Item_Requests": 8198, "Searches_Platform": 2224},
			"3060201": {"Total_Item_Requests": 10672, "Searches_Platform": 3836},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			in := &Ingester{Store: store.NewMemory(), Mappings: ms, By: "test", Now: clock(), DryRun: true}
			out, err := in.Ingest(context.Background(), File{Name: tt.file, Data: readFixture(t, tt.file), Vendor: tt.vendor})
			if err != nil {
				t.Fatal(err)
			}
			t.Log("\n" + Explain(out))
			if out.Status != StatusLoaded {
				t.Fatalf("status %s: %s %v", out.Status, out.Reason, out.Rejected)
			}
			if out.Rows != tt.rows || len(out.Units) != tt.units {
				t.Errorf("rows %d units %d, want %d and %d", out.Rows, len(out.Units), tt.rows, tt.units)
			}
			for lib, want := range tt.totals {
				for metric, n := range want {
					if got := out.Totals[lib][metric]; got != n {
						t.Errorf("%s %s = %d, want %d", lib, metric, got, n)
					}
				}
			}
			if keys, _ := in.Store.List(context.Background(), ""); len(keys) != 0 {
				t.Errorf("dry run stored %q", keys)
			}
		})
	}
}

func listKeys(t *testing.T, st Store, prefix string) []string {
	t.Helper()
	keys, err := st.List(context.Background(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func readSidecar(t *testing.T, st Store, key string) bibstat.Sidecar {
	t.Helper()
	s, err := getSidecar(context.Background(), st, key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newestPerUnit is what the warehouse does with sidecars: per unit
// directory, the newest loadable one wins.
func newestPerUnit(t *testing.T, st Store) map[string]bibstat.Sidecar {
	t.Helper()
	out := map[string]bibstat.Sidecar{}
	for _, k := range listKeys(t, st, bibstat.RawPrefix) {
		if !bibstat.IsSidecar(k) {
			continue
		}
		s := readSidecar(t, st, k)
		if s.Key+bibstat.SidecarSuffix != k || !s.Loadable() {
			continue
		}
		u := path.Dir(s.Key) + "/"
		if prev, ok := out[u]; !ok || prev.Key < s.Key {
			out[u] = s
		}
	}
	return out
}

func TestIngestArchivesSupersedesAndSkipsDuplicates(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	in := &Ingester{Store: st, Mappings: loadTestMappings(t), By: "kari", Now: clock()}
	data := readFixture(t, "avisleser-2025q1.csv")

	first, err := in.Ingest(ctx, File{Name: "avisleser-2025q1.csv", Data: data, Vendor: "avisleser"})
	if err != nil || first.Status != StatusLoaded {
		t.Fatalf("first upload: %v %+v", err, first)
	}
	// Raw is sacred: the file is archived byte-exact.
	raw, err := store.ReadAll(ctx, st, first.RawKey, 1<<20)
	if err != nil || !bytes.Equal(raw, data) {
		t.Fatalf("archived file differs from the upload (%v)", err)
	}
	rec := readSidecar(t, st, first.RawKey+FileRecordSuffix)
	if rec.Upload == nil || rec.Upload.By != "kari" || rec.SHA256 != first.SHA256 || rec.Upload.Mapping == "" || rec.State != bibstat.StateOK {
		t.Errorf("file record: %+v %+v", rec, rec.Upload)
	}
	if m, err := store.ReadAll(ctx, st, rec.Upload.Mapping, 1<<20); err != nil || !bytes.Contains(m, []byte("vendor: avisleser")) {
		t.Errorf("mapping not archived at %s: %v", rec.Upload.Mapping, err)
	}
	units := newestPerUnit(t, st)
	if len(units) != 12 {
		t.Fatalf("%d units, want 12 (4 libraries × 3 months)", len(units))
	}
	oslo := units["raw/upload/avisleser/vendor/2030100/2025-01/"]
	if oslo.Library != "2030100" || oslo.Month != "2025-01" || oslo.Rows != 2 || oslo.State != bibstat.StateOK ||
		oslo.ParserVersion == 0 || oslo.Upload.File != first.RawKey {
		t.Errorf("Oslo January unit: %+v", oslo)
	}
	if _, err := store.ReadAll(ctx, st, oslo.ParsedKey, 1<<20); err != nil {
		t.Errorf("parsed object: %v", err)
	}
	if z := units["raw/upload/avisleser/vendor/2160100/2025-03/"]; z.State != bibstat.StateZero || z.Rows != 0 {
		t.Errorf("a month with no usage: %+v, want state zero", z)
	}

	// The same bytes again: detected, nothing stored.
	before := len(listKeys(t, st, ""))
	again, err := in.Ingest(ctx, File{Name: "kopi.csv", Data: data, Vendor: "avisleser"})
	if err != nil || again.Status != StatusDuplicate || again.Duplicate != first.RawKey {
		t.Fatalf("second upload: %v %+v", err, again)
	}
	if after := len(listKeys(t, st, "")); after != before {
		t.Errorf("a duplicate stored %d objects", after-before)
	}

	// A corrected file for Oslo, January: supersedes only that unit.
	fixed := bytes.Replace(data, []byte("AV-10231;Oslo demobibliotek;01.2025;1 234;12 456"), []byte("AV-10231;Oslo demobibliotek;01.2025;1 240;12 500"), 1)
	fixed = bytes.Split(fixed, []byte("AV-10231;Oslo demobibliotek;02.2025"))[0]
	corr, err := in.Ingest(ctx, File{Name: "avisleser-rettet.csv", Data: fixed, Vendor: "avisleser"})
	if err != nil || corr.Status != StatusLoaded {
		t.Fatalf("correction: %v %+v", err, corr)
	}
	units = newestPerUnit(t, st)
	if len(units) != 12 {
		t.Errorf("%d units after the correction, want still 12", len(units))
	}
	if got := units["raw/upload/avisleser/vendor/2030100/2025-01/"].Upload.File; got != corr.RawKey {
		t.Errorf("Oslo January comes from %s, want the correction %s", got, corr.RawKey)
	}
	if got := units["raw/upload/avisleser/vendor/2030100/2025-02/"].Upload.File; got != first.RawKey {
		t.Errorf("Oslo February comes from %s, want the first upload", got)
	}
}

func TestIngestRejectsAndAcceptsPartial(t *testing.T) {
	ctx := context.Background()
	data := readFixture(t, "avisleser-feil.csv")
	wantRejects := []string{
		`avisleser-feil.csv:row 5:column A "Kundenr": unknown library account "AV-99999"`,
		`avisleser-feil.csv:row 6:column C "Måned": month "13.2025"`,
		`avisleser-feil.csv:row 7:column D "Økter": negative count "-5"`,
		`avisleser-feil.csv:row 8:column E "Åpnede artikler": count "2 455,5" is not a whole number`,
	}

	st := store.NewMemory()
	in := &Ingester{Store: st, Mappings: loadTestMappings(t), By: "kari", Now: clock()}
	out, err := in.Ingest(ctx, File{Name: "avisleser-feil.csv", Data: data, Vendor: "avisleser"})
	if err != nil || out.Status != StatusRejected {
		t.Fatalf("%v %+v", err, out)
	}
	if len(out.Rejected) != len(wantRejects) {
		t.Fatalf("rejects %v", out.Rejected)
	}
	for i, w := range wantRejects {
		if !strings.HasPrefix(out.Rejected[i].String(), w) {
			t.Errorf("reject %d = %q, want %q…", i, out.Rejected[i], w)
		}
	}
	if !strings.Contains(out.Reason, "4 rows cannot be mapped") || !strings.Contains(out.Reason, "--accept-partial") {
		t.Errorf("reason %q", out.Reason)
	}
	if n := len(newestPerUnit(t, st)); n != 0 {
		t.Errorf("a rejected file loaded %d units", n)
	}
	rec := readSidecar(t, st, out.RawKey+FileRecordSuffix)
	if rec.State != bibstat.StateFailed || rec.Error == "" || len(rec.Upload.RejectedRows) != 4 {
		t.Errorf("rejected file record: %+v", rec)
	}

	// The same file, now with --accept-partial: not a duplicate of a rejected upload.
	in.AcceptPartial = true
	out, err = in.Ingest(ctx, File{Name: "avisleser-feil.csv", Data: data, Vendor: "avisleser"})
	if err != nil || out.Status != StatusPartial || out.Rows != 2 {
		t.Fatalf("%v %+v", err, out)
	}
	units := newestPerUnit(t, st)
	u, ok := units["raw/upload/avisleser/vendor/2030100/2025-01/"]
	if len(units) != 1 || !ok || u.State != bibstat.StatePartial || len(u.Upload.RejectedRows) != 4 {
		t.Errorf("units %v", units)
	}
}

func TestIngestCounterFile(t *testing.T) {
	ctx := context.Background()
	data, err := os.ReadFile("../../testdata/counter/tr_j1_r51.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory()
	in := &Ingester{Store: st, By: "kari", Now: clock()}
	out, err := in.Ingest(ctx, File{Name: "tr_j1.xlsx", Data: data, Vendor: "tidsskrift"})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + Explain(out))
	if out.Status != StatusLoaded || out.Kind != "counter" || out.Rows == 0 || len(out.Units) == 0 {
		t.Fatalf("%+v", out)
	}
	for _, k := range out.Units {
		if !strings.HasPrefix(k, "raw/upload/tidsskrift/tr_j1/1103000/") {
			t.Errorf("unit %s", k)
		}
	}

	// A --library that contradicts the report's own institution id.
	out, err = in.Ingest(ctx, File{Name: "tr_j1.xlsx", Data: data, Vendor: "tidsskrift2", Library: "2030100"})
	if err != nil || out.Status != StatusRejected || !strings.Contains(out.Reason, "--library says 2030100") {
		t.Errorf("%v %+v", err, out)
	}

	// Not COUNTER and no mapping: rejected with a hint.
	out, err = in.Ingest(ctx, File{Name: "x.csv", Data: readFixture(t, "avisleser-2025q1.csv"), Vendor: "avisleser"})
	if err != nil || out.Status != StatusRejected || !strings.Contains(out.Reason, "has no mapping") {
		t.Errorf("%v %+v", err, out)
	}
}

func TestProcessInbox(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	put := func(key string, data []byte) {
		if err := st.Put(ctx, key, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	put("inbox/avisleser/statistikk.csv", readFixture(t, "avisleser-2025q1.csv"))
	put("inbox/avisleser/feil.csv", readFixture(t, "avisleser-feil.csv"))
	put("inbox/filmstrom/mars.xlsx", readFixture(t, "filmstrom-2025q1.xlsx"))
	put("inbox/avisleser/done/old.csv", []byte("already processed"))
	in := &Ingester{Store: st, Mappings: loadTestMappings(t), By: "inbox", Now: clock()}

	res, err := ProcessInbox(ctx, st, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 {
		t.Fatalf("%d results, want 3", len(res))
	}
	want := map[string]string{
		"inbox/avisleser/feil.csv":       "inbox/avisleser/rejected/feil.csv",
		"inbox/avisleser/statistikk.csv": "inbox/avisleser/done/statistikk.csv",
		"inbox/filmstrom/mars.xlsx":      "inbox/filmstrom/done/mars.xlsx",
	}
	for _, r := range res {
		if r.MovedTo != want[r.Key] {
			t.Errorf("%s moved to %s, want %s", r.Key, r.MovedTo, want[r.Key])
		}
		if _, err := st.Get(ctx, r.Key); err == nil {
			t.Errorf("%s still in the inbox", r.Key)
		}
	}
	reason, err := store.ReadAll(ctx, st, "inbox/avisleser/rejected/feil.csv.reason.txt", 1<<20)
	if err != nil || !strings.Contains(string(reason), `row 7:column D "Økter": negative count "-5"`) {
		t.Errorf("reason file: %v\n%s", err, reason)
	}

	// The same file dropped again: a duplicate, moved to done/ under a new name.
	put("inbox/avisleser/statistikk.csv", readFixture(t, "avisleser-2025q1.csv"))
	res, err = ProcessInbox(ctx, st, in)
	if err != nil || len(res) != 1 || res[0].Outcome.Status != StatusDuplicate ||
		!strings.HasPrefix(res[0].MovedTo, "inbox/avisleser/done/") || res[0].MovedTo == "inbox/avisleser/done/statistikk.csv" {
		t.Fatalf("%v %+v", err, res)
	}
	if res, err := ProcessInbox(ctx, st, in); err != nil || len(res) != 0 {
		t.Errorf("an empty inbox: %v %v", res, err)
	}
}

func TestMappedReadEmitsArrow(t *testing.T) {
	m := loadTestMappings(t)["leksikon"]
	var rows int64
	res, err := m.Read(context.Background(), readFixture(t, "leksikon-2025.tsv"), ReadOptions{Name: "leksikon-2025.tsv", SourceKey: "k"},
		func(rec arrow.RecordBatch) error { rows += rec.NumRows(); rec.Release(); return nil })
	if err != nil || len(res.Rejected) > 0 || rows != 70 || res.Rows != 70 {
		t.Fatalf("rows %d, %+v, %v", rows, res, err)
	}
}
