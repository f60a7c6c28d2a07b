package transform_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/schemas"
	"github.com/bibliotek24/bibstat/transform"
)

// logsAddNothing archives an access-log unit for every library, platform
// and month the world's harvests name. The platforms count the vendor's
// reports (count_source's default), so the logs are kept for comparison:
// not one usage cell may change, and the comparison holds every login.
func logsAddNothing(t *testing.T, wh *transform.Warehouse, st store.Store, w world) []string {
	t.Helper()
	registered := map[string]bool{}
	for _, l := range w.Libs {
		registered[l.ID] = true
	}
	before := snapshot(t, wh.DB)
	seen := map[string]bool{}
	var logins int64
	for _, s := range w.Sources {
		k := s.Vendor + "/" + s.Lib + "/" + s.Month
		if s.Upload || s.Lib == "" || seen[k] {
			continue
		}
		seen[k] = true
		n := int64(7 + len(seen))
		archiveLogUnit(t, st, s.Vendor, s.Lib, s.Month, n)
		if registered[s.Lib] {
			logins += n
		}
	}
	if len(seen) == 0 {
		return nil
	}
	if _, err := wh.Update(t.Context(), st); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for tb, sum := range snapshot(t, wh.DB) {
		if before[tb] != sum {
			msgs = append(msgs, "access-log units of platforms that count the vendor changed "+tb)
		}
	}
	var got int64
	if err := wh.DB.QueryRow(`SELECT coalesce(sum(login_count), 0) FROM mart_source_comparison`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != logins {
		msgs = append(msgs, fmt.Sprintf("mart_source_comparison holds %d logins of registered libraries, %d were archived", got, logins))
	}
	return msgs
}

// archiveLogUnit stores an access-log unit of n Total_Item_Requests as
// ingest/accesslog leaves one: parsed rows and a sidecar, no raw object.
func archiveLogUnit(t *testing.T, st store.Store, platform, lib, month string, n int64) {
	t.Helper()
	m, err := bibstat.ParseMonth(month)
	if err != nil {
		t.Fatal(err)
	}
	key := bibstat.AccessLogUnitPrefix(platform, bibstat.LibraryID(lib), m) + "20250101T000000.000000000Z.accesslog"
	pq, err := schemas.ParquetOf([]schemas.Row{{Release: "5.1", ReportID: "PR", MetricType: "Total_Item_Requests", CustomerID: lib,
		InstitutionID: "ISIL:NO-" + lib, Platform: platform, DataType: "Database", AccessMethod: "Regular", SourceKey: key, Month: m.First(), Count: n}})
	if err != nil {
		t.Fatal(err)
	}
	side := bibstat.Sidecar{Key: key, Source: bibstat.SourceAccessLog, Platform: platform, Credential: lib, Library: bibstat.LibraryID(lib),
		Report: "pr", Month: month, SHA256: strings.Repeat("a", 8) + key, State: bibstat.StateOK, Release: "5.1", Rows: 1,
		ParsedKey: bibstat.ParsedKey(key, schemas.Version), ParserVersion: schemas.Version}
	put(t, st, side.ParsedKey, pq)
	put(t, st, bibstat.SidecarKey(key), encode(t, side))
}
