package transform

import (
	"testing"

	"github.com/bibliotek24/bibstat/internal/store"
)

// WorldStore is the world the package's own tests load, for tests that
// import packages built on transform (the agreements).
func WorldStore(t *testing.T) store.Store { return world(t) }

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
}
