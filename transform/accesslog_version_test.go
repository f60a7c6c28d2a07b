package transform

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/schemas"
)

// An access-log unit has no raw object for this binary's reader: its rows
// are the count ingest-logs made from the archived events. A unit counted
// under an older parser version must still load from its stored rows (a
// recount is ingest-logs' work), never stop the load or vanish.
func TestAccessLogUnitOfAnOlderParserVersionLoads(t *testing.T) {
	const lib = bibstat.LibraryID("2030100")
	ctx := context.Background()
	st := registerOnly(t)
	archiveLog(t, st, "avis", lib, "2024-01", t0, tirLogin(50))
	ageAccessLogUnits(t, st)

	w := loadWorld(t, st, Options{CountSource: countLog})
	var n int64
	if err := w.DB.QueryRowContext(ctx, `SELECT coalesce(sum(count), 0) FROM mart_library_month
		WHERE library_id = ? AND platform = 'avis' AND metric_type = 'Total_Item_Requests'`, string(lib)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 50 {
		t.Fatalf("login-measured uses of an older parser version's unit: %d, want 50", n)
	}
}

// ageAccessLogUnits rewrites every access-log unit as an older parser
// version wrote it: its sidecar's version and its Parquet under that
// version's key.
func ageAccessLogUnits(t *testing.T, st store.Store) {
	t.Helper()
	ctx := context.Background()
	keys, err := st.List(ctx, "raw/accesslog/units/")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		side, err := readSidecar(ctx, st, k)
		if err != nil {
			continue // not a sidecar
		}
		rc, err := st.Get(ctx, side.ParsedKey)
		if err != nil {
			t.Fatal(err)
		}
		pq, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		side.ParserVersion = schemas.Version - 1
		side.ParsedKey = bibstat.ParsedKey(side.Key, side.ParserVersion)
		js, err := bibstat.EncodeSidecar(side)
		if err != nil {
			t.Fatal(err)
		}
		for key, v := range map[string][]byte{side.ParsedKey: pq, bibstat.SidecarKey(side.Key): js} {
			if err := st.Put(ctx, key, bytes.NewReader(v)); err != nil {
				t.Fatal(err)
			}
		}
	}
}
