package transform

import (
	"testing"

	"github.com/bibliotek24/bibstat/internal/store"
)

// WorldStore is the world the package's own tests load, for tests that
// import packages built on transform (the agreements), with a month of
// the access log beside the vendor's.
func WorldStore(t *testing.T) store.Store {
	st := world(t)
	archiveLog(t, st, "avis", "2030100", "2024-01", t0, tirLogin(18), login{"Unique_Item_Requests", 6})
	return st
}

// RestateWorld archives a restatement of a loaded month and a new month.
func RestateWorld(t *testing.T, st store.Store) {
	archive(t, st, harvest{platform: "avis", cred: "2030100", lib: "2030100", report: "pr", month: "2024-01", at: t1}.with(
		use{"5.1", "PR", "Total_Item_Requests", "", 25}))
	archive(t, st, harvest{platform: "avis", cred: "2300500", lib: "2300500", report: "pr", month: "2024-02", at: t1}.with(
		use{"5.1", "PR", "Total_Item_Requests", "", 11}))
	tr := harvest{platform: "avis", cred: "2300500", lib: "2300500", report: "tr", month: "2024-02", at: t1}.with(
		use{"5.1", "TR", "Total_Item_Requests", "", 6}, use{"5.1", "TR", "Unique_Title_Requests", "", 2})
	for i := range tr.rows {
		tr.rows[i].Title = "Aftenposten"
	}
	archive(t, st, tr)
	// The access log counted again: the newer count supersedes the older.
	archiveLog(t, st, "avis", "2030100", "2024-01", t1, tirLogin(19), login{"Unique_Item_Requests", 6})
}
