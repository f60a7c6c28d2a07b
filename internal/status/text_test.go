package status

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/ledger"
)

// A failed unit is "F" in the matrix, never "0", and listed below it with
// library, platform, report, month and its reason, cut when long.
func TestStatusShowsFailedWithReason(t *testing.T) {
	long := "asked for 2025-03, usage dated 2025-04 " + strings.Repeat("x", 300)
	entries := []ledger.Entry{
		{Platform: "avis", Credential: "1", Library: "2120100", Report: "pr", Month: "2025-02", State: bibstat.StateOK},
		{Platform: "avis", Credential: "1", Library: "2120100", Report: "pr", Month: "2025-03", State: bibstat.StateZero},
		{Platform: "avis", Credential: "1", Library: "2120100", Report: "tr", Month: "2025-03", State: bibstat.StateFailed, LastError: long},
		{Platform: "avis", Credential: "1", Library: "2120100", Report: "pr", Month: "2025-04", State: bibstat.StateZero},
		{Platform: "avis", Credential: "1", Library: "2120100", Report: "pr", Month: "2025-05", State: bibstat.StateQueued, LastError: "1011 queued"},
	}
	var out bytes.Buffer
	if err := Build(nil, entries, Options{}, time.Now()).WriteText(&out, 50); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"2120100  avis             .F0q",
		"\nfailed: 1 units\n  2120100 avis tr 2025-03: asked for 2025-03, usage dated 2025-04 xxx",
		"…\n",
		"missing or not final: 1 units",
		"queued — 1011 queued",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("status lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, strings.Repeat("x", maxReason)) {
		t.Errorf("a long reason is not cut:\n%s", s)
	}
}
