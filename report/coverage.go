package report

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
)

// coverage is a page's coverage lines: per platform the months its figures
// cover, the months missing and why, and when it was last harvested. Each
// month of a platform takes the worst state among the scope's libraries,
// so a county's month is missing when one of its libraries' is. Without
// the ledger the months come from the usage itself and the last line says
// that missing months cannot be told.
func (s *Site) coverage(m messages, sc Scope, libs []libraryRow) []string {
	in := map[string]bool{}
	for _, l := range libs {
		in[l.ID] = true
	}
	worst := map[string]map[bibstat.Month]bibstat.State{}
	last := map[string]time.Time{}
	note := func(platform string, mo bibstat.Month, st bibstat.State) {
		if worst[platform] == nil {
			worst[platform] = map[bibstat.Month]bibstat.State{}
		}
		if old, ok := worst[platform][mo]; ok {
			st = bibstat.Worse(old, st)
		}
		worst[platform][mo] = st
	}
	for _, h := range s.Harvests {
		if !in[h.Library] && !(sc.Kind == "nation" && h.Library == "") {
			continue
		}
		note(h.Platform, h.Month, h.State)
		if h.At.After(last[h.Platform]) {
			last[h.Platform] = h.At
		}
	}
	// A platform the ledger does not know (uploaded files, or no ledger at
	// all) covers the months its usage has.
	harvested := maps.Clone(worst)
	for _, l := range libs {
		for _, r := range s.libUsage[l.ID] {
			if harvested[r.Platform] == nil {
				note(r.Platform, bibstat.MonthOf(r.Month), bibstat.StateOK)
			}
		}
	}
	if len(worst) == 0 {
		return []string{m.CoverageNone}
	}
	var lines []string
	ids := slices.SortedFunc(maps.Keys(worst), func(a, b string) int { return cmp.Compare(s.platform(a), s.platform(b)) })
	for _, p := range ids {
		lines = append(lines, s.coverageLine(m, p, worst[p], last[p]))
	}
	if s.Harvests == nil {
		lines = append(lines, m.CoverageUnknown)
	}
	return lines
}

// coverageLine is one platform's line: "Avisarkivet: jan. 2024–des. 2025
// (22 måneder); mangler mars 2025: ikke klar hos leverandøren ennå; sist hentet …".
func (s *Site) coverageLine(m messages, platform string, months map[bibstat.Month]bibstat.State, last time.Time) string {
	var covered []bibstat.Month
	missing := map[bibstat.State][]bibstat.Month{}
	for _, mo := range slices.SortedFunc(maps.Keys(months), func(a, b bibstat.Month) int { return a.First().Compare(b.First()) }) {
		if st := months[mo]; st.Loadable() {
			covered = append(covered, mo)
		} else {
			missing[st] = append(missing[st], mo)
		}
	}
	var parts []string
	if len(covered) > 0 {
		parts = append(parts, fmt.Sprintf(m.CoverageCovered, s.platform(platform), m.formatMonth(covered[0].First()),
			m.formatMonth(covered[len(covered)-1].First()), m.months(len(covered))))
	} else {
		parts = append(parts, s.platform(platform)+": "+m.CoverageNone)
	}
	for _, st := range bibstat.States() {
		if mos := missing[st]; len(mos) > 0 {
			parts = append(parts, fmt.Sprintf(m.CoverageMissing, m.monthList(mos), m.reason(st)))
		}
	}
	if !last.IsZero() {
		parts = append(parts, fmt.Sprintf(m.CoverageLast, m.formatTime(last)))
	}
	return strings.Join(parts, "; ") + "."
}

// monthList names months, at most six, then how many more.
func (m messages) monthList(mos []bibstat.Month) string {
	var names []string
	for i, mo := range mos {
		if i == 6 {
			names = append(names, "+"+m.months(len(mos)-6))
			break
		}
		names = append(names, m.formatMonth(mo.First()))
	}
	return strings.Join(names, ", ")
}

// reason says in words why a month in state st is missing.
func (m messages) reason(st bibstat.State) string {
	if r, ok := m.Reasons[string(st)]; ok {
		return r
	}
	return m.Reasons["missing"]
}
