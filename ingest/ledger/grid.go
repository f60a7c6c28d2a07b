package ledger

import (
	"maps"
	"slices"
	"strings"

	"github.com/bibliotek24/bibstat"
)

// Grid is the completeness view of the harvest: one row per library ×
// platform, one cell per month, each cell the units by state. It is built
// here once for every reader: the portal's /admin, /metrics and "bibstat
// status".
type Grid struct {
	Months []string              // YYYY-MM, ascending
	Rows   []GridRow             // by library, then platform
	Totals map[bibstat.State]int // units by state over the whole grid, every month
}

// GridRow is one library on one platform.
type GridRow struct {
	Library, Platform string
	Cells             []GridCell // one per Grid.Months
}

// GridCell is one library × platform × month: its units by state.
type GridCell struct {
	Counts map[bibstat.State]int // nil when the cell has no unit
}

// StateCount is n units in one state.
type StateCount struct {
	State bibstat.State
	N     int
}

// States lists the cell's units by state, worst state first.
func (c GridCell) States() []StateCount {
	var out []StateCount
	for st, n := range c.Counts {
		if n > 0 {
			out = append(out, StateCount{st, n})
		}
	}
	slices.SortFunc(out, func(a, b StateCount) int {
		if d := b.State.Severity() - a.State.Severity(); d != 0 {
			return d
		}
		return strings.Compare(string(a.State), string(b.State))
	})
	return out
}

// Worst is the worst state of the cell's units; false when it has none.
func (c GridCell) Worst() (bibstat.State, bool) {
	if s := c.States(); len(s) > 0 {
		return s[0].State, true
	}
	return "", false
}

// GridBuilder counts units into a Grid. The zero value is empty and ready.
type GridBuilder struct {
	counts map[gridKey]map[string]map[bibstat.State]int // row → month → state → units
	totals map[bibstat.State]int
}

type gridKey struct{ library, platform string }

// AddEntry counts e in its library's row; an entry that names no library
// counts under its credential.
func (b *GridBuilder) AddEntry(e Entry) {
	lib := string(e.Library)
	if lib == "" {
		lib = e.Credential
	}
	b.Add(lib, e.Platform, e.Month, e.State, 1)
}

// Add counts n units of library × platform × month in state st. A state
// no unit can be in, such as "" for an expected unit never harvested, is
// counted too and is the worst (bibstat.State.Severity).
func (b *GridBuilder) Add(library, platform, month string, st bibstat.State, n int) {
	if b.counts == nil {
		b.counts, b.totals = map[gridKey]map[string]map[bibstat.State]int{}, map[bibstat.State]int{}
	}
	k := gridKey{library, platform}
	if b.counts[k] == nil {
		b.counts[k] = map[string]map[bibstat.State]int{}
	}
	if b.counts[k][month] == nil {
		b.counts[k][month] = map[bibstat.State]int{}
	}
	b.counts[k][month][st] += n
	b.totals[st] += n
}

// Grid returns the grid of the last lastMonths months that have a unit
// (every month when lastMonths <= 0). Totals count every month.
func (b *GridBuilder) Grid(lastMonths int) Grid {
	g := Grid{Totals: map[bibstat.State]int{}}
	maps.Copy(g.Totals, b.totals)
	months := map[string]bool{}
	for _, byMonth := range b.counts {
		for m := range byMonth {
			months[m] = true
		}
	}
	g.Months = slices.Sorted(maps.Keys(months))
	if lastMonths > 0 && len(g.Months) > lastMonths {
		g.Months = g.Months[len(g.Months)-lastMonths:]
	}
	keys := slices.SortedFunc(maps.Keys(b.counts), func(a, b gridKey) int {
		if c := strings.Compare(a.library, b.library); c != 0 {
			return c
		}
		return strings.Compare(a.platform, b.platform)
	})
	for _, k := range keys {
		row := GridRow{Library: k.library, Platform: k.platform, Cells: make([]GridCell, len(g.Months))}
		for i, m := range g.Months {
			if c := b.counts[k][m]; len(c) > 0 {
				row.Cells[i].Counts = maps.Clone(c)
			}
		}
		g.Rows = append(g.Rows, row)
	}
	return g
}

// GridOf is the grid of entries over their last lastMonths months (every
// month when lastMonths <= 0).
func GridOf(entries []Entry, lastMonths int) Grid {
	var b GridBuilder
	for _, e := range entries {
		b.AddEntry(e)
	}
	return b.Grid(lastMonths)
}
