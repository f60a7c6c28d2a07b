package upload

import (
	"testing"
	"time"
	"unsafe"

	"github.com/bibliotek24/bibstat/schemas"
)

// TestUnitTotalsOutliveTheRowsMemory: the totals' metric keys are the
// unit set's own, so a batch whose memory is overwritten after its rows
// were added (a reader that reuses its buffers) changes none of them.
func TestUnitTotalsOutliveTheRowsMemory(t *testing.T) {
	u := newUnits(true, 10)
	s, err := u.get(unitID{})
	if err != nil {
		t.Fatal(err)
	}
	buf := []byte("Total_Item_Requests")
	r := schemas.Row{MetricType: unsafe.String(&buf[0], len(buf)), Month: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Count: 7}
	if err := u.add(s, "2030100", &r); err != nil {
		t.Fatal(err)
	}
	copy(buf, "Unique_Item_Request")
	for name, m := range map[string]map[string]int64{"library totals": u.totals["2030100"], "unit totals": s.tot} {
		if len(m) != 1 || m["Total_Item_Requests"] != 7 {
			t.Errorf("%s after the row's memory was overwritten: %v, want Total_Item_Requests 7", name, m)
		}
	}
}
