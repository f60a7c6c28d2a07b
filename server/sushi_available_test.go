package server

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/transform"
)

// TestAvailableSetsStaleLogCopiesAside: the months served are the ones the
// rule of choice counts (marts.sql, source_choice). A byte-identical copy of
// an access-log object its own source has since restated (stale_sources)
// never counts there, so it must not take a platform's month from the
// vendor's reports here either: the vendor's TR for June stays available.
func TestAvailableSetsStaleLogCopiesAside(t *testing.T) {
	ctx := context.Background()
	wh, err := transform.Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"), transform.Options{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	const lib = "2030000"
	for _, q := range []string{
		`INSERT INTO count_source VALUES ('plat', 'access-log')`,
		`INSERT INTO loaded_units VALUES
		  ('sushi/plat/` + lib + `/tr/2025-05', 'r1', 'p1', '` + lib + `', 'plat', 'TR', DATE '2025-05-01', 'ok', 3, '5.1', 'sushi', TIMESTAMP '2025-06-02 00:00:00'),
		  ('sushi/plat/` + lib + `/tr/2025-06', 'r2', 'p2', '` + lib + `', 'plat', 'TR', DATE '2025-06-01', 'ok', 3, '5.1', 'sushi', TIMESTAMP '2025-07-02 00:00:00'),
		  ('access-log/plat/2025-05', 'r3', 'p3', '', 'plat', 'PR', DATE '2025-05-01', 'ok', 3, '', 'access-log', TIMESTAMP '2025-06-02 00:00:00'),
		  ('access-log/plat/2025-06', 'r4', 'p4', '', 'plat', 'PR', DATE '2025-06-01', 'ok', 3, '', 'access-log', TIMESTAMP '2025-07-02 00:00:00')`,
		`INSERT INTO stale_sources VALUES ('access-log/plat/2025-06', 'a copy of r0, superseded by r9')`,
	} {
		if _, err := wh.DB.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s := &Server{cfg: Config{DB: wh.DB}}
	mr, err := s.available(ctx, bibstat.LibraryID(lib), "plat")
	if err != nil {
		t.Fatal(err)
	}
	may, jun := bibstat.Month{Year: 2025, Mon: 5}, bibstat.Month{Year: 2025, Mon: 6}
	// May: the log counts, so the vendor's TR is not what is served. June:
	// the only log is a stale copy, so the vendor's TR counts, as in source_choice.
	want := map[string][2]bibstat.Month{"TR": {jun, jun}, "PR": {may, may}}
	if len(mr.families) != len(want) {
		t.Fatalf("families = %v, want %v", mr.families, want)
	}
	for fam, w := range want {
		if mr.families[fam] != w {
			t.Errorf("%s = %v, want %v", fam, mr.families[fam], w)
		}
	}
}
