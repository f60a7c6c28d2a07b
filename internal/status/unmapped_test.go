package status

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/transform"
)

// TestUnmappedInstitutionShown: usage of an ISIL the register lacks is
// listed by status as an unmapped institution with the vendor's id, and
// gone once the register names the library.
func TestUnmappedInstitutionShown(t *testing.T) {
	ctx := context.Background()
	wh, err := transform.Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"), transform.Options{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	if n, err := ReadUnmapped(ctx, wh.DB, Options{}); err != nil || n != nil {
		t.Fatalf("a warehouse never refreshed: %v, %v; want none", n, err)
	}
	unit := "raw/upload/filmco/pr/2999999/2024-01/@5"
	for _, q := range []string{
		`INSERT INTO loaded_units VALUES ('` + unit + `', 'raw/upload/filmco/pr/2999999/2024-01/a.tsv', '', '2999999', 'film', 'pr',
			DATE '2024-01-01', 'ok', 1, '5', 'upload/filmco', TIMESTAMP '2024-02-01 10:00:00')`,
		`INSERT INTO facts_loose (unit_key, library_id, release, report_id, platform, metric_type, month, count, institution_id, customer_id) VALUES
			('` + unit + `', '2999999', '5', 'PR', 'film', 'Total_Item_Requests', DATE '2024-01-01', 9, 'ISIL:NO-2999999', '')`,
		`INSERT INTO dirty_months VALUES (DATE '2024-01-01')`,
	} {
		if _, err := wh.DB.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := wh.PutLibraries(ctx, []transform.Library{{ID: "2030100", Municipality: "0301"}}); err != nil {
		t.Fatal(err)
	}
	rep := Build(nil, []ledger.Entry{}, Options{}, time.Now())
	if rep.Unmapped, err = ReadUnmapped(ctx, wh.DB, Options{}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := rep.WriteText(&out, 50); err != nil {
		t.Fatal(err)
	}
	if want := "unmapped institution: film institution_id ISIL:NO-2999999, 2024-01 to 2024-01: Total_Item_Requests 9"; !strings.Contains(out.String(), want) {
		t.Errorf("status lacks %q:\n%s", want, out.String())
	}
	if n, _ := ReadUnmapped(ctx, wh.DB, Options{Platform: "avis"}); len(n) != 0 {
		t.Errorf("--platform avis shows %v", n)
	}
	if err := wh.PutLibraries(ctx, []transform.Library{{ID: "2030100", Municipality: "0301"}, {ID: "2999999", Municipality: "0301"}}); err != nil {
		t.Fatal(err)
	}
	if n, err := ReadUnmapped(ctx, wh.DB, Options{}); err != nil || len(n) != 0 {
		t.Errorf("after the register names it: %v, %v", n, err)
	}
}
