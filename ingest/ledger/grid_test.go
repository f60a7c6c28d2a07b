package ledger

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat"
)

// show prints a grid one row a line, each cell its states worst first, so
// a test can compare the whole grid at a glance.
func show(g Grid) string {
	var b strings.Builder
	fmt.Fprintf(&b, "months %s\n", strings.Join(g.Months, " "))
	for _, r := range g.Rows {
		fmt.Fprintf(&b, "%s %s:", r.Library, r.Platform)
		for _, c := range r.Cells {
			var parts []string
			for _, sc := range c.States() {
				parts = append(parts, fmt.Sprintf("%s=%d", sc.State, sc.N))
			}
			worst, ok := c.Worst()
			if !ok {
				worst = "-"
			}
			fmt.Fprintf(&b, " [%s %s]", worst, strings.Join(parts, ","))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestGrid(t *testing.T) {
	e := func(lib, cred, platform string, report bibstat.ReportID, month string, st bibstat.State) Entry {
		return Entry{Library: bibstat.LibraryID(lib), Credential: cred, Platform: platform, Report: report, Month: month, State: st}
	}
	tests := []struct {
		name    string
		entries []Entry
		last    int
		want    string
		totals  map[bibstat.State]int
	}{
		{name: "empty", want: "months \n", totals: map[bibstat.State]int{}},
		{
			name: "worst state first, rows by library then platform",
			entries: []Entry{
				e("2030100", "c1", "b", "pr", "2025-01", bibstat.StateOK),
				e("2030100", "c1", "a", "pr", "2025-01", bibstat.StateOK),
				e("2030100", "c1", "a", "dr", "2025-01", bibstat.StateNotReady),
				e("2030100", "c1", "a", "tr", "2025-01", bibstat.StateCredentialsBroken),
				e("2030100", "c1", "a", "pr", "2025-02", bibstat.StateZero),
				e("2030100", "c1", "a", "dr", "2025-02", bibstat.StatePartial),
				e("1000000", "c0", "a", "pr", "2025-02", bibstat.StateFailed),
			},
			want: "months 2025-01 2025-02\n" +
				"1000000 a: [- ] [failed failed=1]\n" +
				"2030100 a: [credentials_broken credentials_broken=1,not_ready=1,ok=1] [partial partial=1,zero=1]\n" +
				"2030100 b: [ok ok=1] [- ]\n",
			totals: map[bibstat.State]int{bibstat.StateOK: 2, bibstat.StateNotReady: 1, bibstat.StateCredentialsBroken: 1,
				bibstat.StateZero: 1, bibstat.StatePartial: 1, bibstat.StateFailed: 1},
		},
		{
			name: "an entry without a library counts under its credential",
			entries: []Entry{
				e("", "kunde-7", "a", "pr", "2025-01", bibstat.StateThrottled),
				e("", "kunde-7", "a", "dr", "2025-01", bibstat.StateQueued),
			},
			want:   "months 2025-01\nkunde-7 a: [throttled throttled=1,queued=1]\n",
			totals: map[bibstat.State]int{bibstat.StateThrottled: 1, bibstat.StateQueued: 1},
		},
		{
			name: "the last months only; totals count every month",
			entries: []Entry{
				e("2030100", "c1", "a", "pr", "2024-11", bibstat.StateFailed),
				e("2030100", "c1", "a", "pr", "2024-12", bibstat.StateOK),
				e("2030100", "c1", "a", "pr", "2025-01", bibstat.StateUnsupported),
			},
			last:   2,
			want:   "months 2024-12 2025-01\n2030100 a: [ok ok=1] [unsupported unsupported=1]\n",
			totals: map[bibstat.State]int{bibstat.StateFailed: 1, bibstat.StateOK: 1, bibstat.StateUnsupported: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := GridOf(tt.entries, tt.last)
			if got := show(g); got != tt.want {
				t.Errorf("grid:\n%s\nwant:\n%s", got, tt.want)
			}
			if fmt.Sprint(g.Totals) != fmt.Sprint(tt.totals) {
				t.Errorf("totals %v, want %v", g.Totals, tt.totals)
			}
		})
	}
}

// TestGridNeverHarvested: an expected unit no harvest has tried (state "")
// is worse than any state, as "bibstat status" shows it.
func TestGridNeverHarvested(t *testing.T) {
	var b GridBuilder
	b.Add("2030100", "a", "2025-01", bibstat.StateCredentialsBroken, 2)
	b.Add("2030100", "a", "2025-01", "", 1)
	b.AddEntry(Entry{Library: "2030100", Platform: "a", Month: "2025-01", State: bibstat.StateOK})
	g := b.Grid(0)
	if got, want := show(g), "months 2025-01\n2030100 a: [ =1,credentials_broken=2,ok=1]\n"; got != want {
		t.Errorf("grid:\n%s\nwant:\n%s", got, want)
	}
}
