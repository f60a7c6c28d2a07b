package report

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
)

// perCapita is the trend metric per 1,000 inhabitants and per 1,000 pupils
// per platform in the year. The denominator is the population served by
// the libraries that took part: those of the scope with usage of the
// platform in the year, each counted once (library_population, the one
// definition). School libraries are counted by pupils, apart: pupils are
// never added to inhabitants.
func (s *Site) perCapita(m messages, sc Scope, libs []libraryRow, year int) *table {
	label := m.metric(trendMetric)
	t := &table{ID: "percapita", Heading: fmt.Sprintf(m.PerCapitaHeading, year), Caption: fmt.Sprintf(m.PerCapitaCaption, label, year),
		RowHead: m.Platform, NoChart: true, Sortable: true, Intro: m.PerCapitaIntro}
	type sums struct {
		use  [2]float64 // public, school
		pop  [2]int64
		n    [2]int // libraries taking part
		seen map[string]bool
	}
	byPlatform := map[string]*sums{}
	schools := false
	for _, l := range libs {
		k := 0
		if l.School {
			k = 1
		}
		for _, r := range s.libUsage[l.ID] {
			if r.Metric != trendMetric || r.Month.Year() != year {
				continue
			}
			ps := byPlatform[r.Platform]
			if ps == nil {
				ps = &sums{seen: map[string]bool{}}
				byPlatform[r.Platform] = ps
			}
			ps.use[k] += r.Total
			if !ps.seen[l.ID] {
				ps.seen[l.ID] = true
				ps.pop[k] += s.libPop[l.ID][year]
				ps.n[k]++
			}
			schools = schools || l.School
		}
	}
	if sc.Kind == "library" && len(libs) == 1 {
		unit := m.Inhabitants
		if libs[0].School {
			unit = m.Pupils
		}
		t.Intro = fmt.Sprintf(m.PerCapitaLibrary, m.formatInt(s.libPop[libs[0].ID][year]), lowerFirst(unit), year)
	}
	t.Series = []string{m.UsePublic, m.InhabitantsServed, m.PerThousandInhabitants}
	if !schools {
		t.Caption = fmt.Sprintf(m.PerCapitaCaptionInhabitants, label, year)
	}
	if schools {
		t.Series = append(t.Series, m.UseSchools, m.PupilsServed, m.PerThousandPupils)
	}
	ids := slices.SortedFunc(maps.Keys(byPlatform), func(a, b string) int { return cmp.Compare(s.platform(a), s.platform(b)) })
	for _, p := range ids {
		ps := byPlatform[p]
		row := tableRow{Label: s.platform(p)}
		for k := range 1 + boolIndex(schools) {
			if ps.n[k] == 0 { // none of this kind used the platform: nothing to show, not zero
				row.Cells = append(row.Cells, m.NoData, m.NoData, m.NoData)
				row.Sort = append(row.Sort, "", "", "")
				continue
			}
			per, perSort := m.NoData, ""
			if ps.pop[k] > 0 {
				v := ps.use[k] * 1000 / float64(ps.pop[k])
				per, perSort = m.formatDecimal(v), fmt.Sprint(v)
			}
			row.Cells = append(row.Cells, m.formatNumber(ps.use[k]), m.formatInt(ps.pop[k]), per)
			row.Sort = append(row.Sort, fmt.Sprint(ps.use[k]), fmt.Sprint(ps.pop[k]), perSort)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

// compare sets the scope's libraries side by side in the year: their use,
// their use per 1,000 inhabitants (or pupils, said so), and the change
// from the same months a year earlier.
func (s *Site) compare(m messages, libs []libraryRow, year int) *table {
	label := m.metric(trendMetric)
	t := &table{ID: "compare", Heading: fmt.Sprintf(m.CompareHeading, year), Caption: fmt.Sprintf(m.CompareCaption, label, year),
		RowHead: m.Library, Series: []string{m.Municipality, m.CompareUse, m.ComparePer, m.CompareChange},
		NoChart: true, Sortable: true, Intro: m.SortHint, Text: 1}
	for _, l := range libs {
		if !l.HasData {
			continue
		}
		var cur, prior float64
		months := map[int]bool{}
		for _, r := range s.libUsage[l.ID] {
			if r.Metric == trendMetric && r.Month.Year() == year {
				cur += r.Total
				months[int(r.Month.Month())] = true
			}
		}
		for _, r := range s.libUsage[l.ID] {
			if r.Metric == trendMetric && r.Month.Year() == year-1 && months[int(r.Month.Month())] {
				prior += r.Total
			}
		}
		unit := m.Inhabitants
		if l.School {
			unit = m.Pupils
		}
		row := tableRow{Label: l.Name, Link: "bibliotek/" + l.ID + ".html",
			Cells: []string{l.Municipality, m.formatNumber(cur), m.NoData, m.NoData}, Sort: []string{"", fmt.Sprint(cur), "", ""}}
		if pop := s.libPop[l.ID][year]; pop > 0 {
			v := cur * 1000 / float64(pop)
			row.Cells[2] = m.formatDecimal(v) + " " + fmt.Sprintf(m.PerThousandOf, lowerFirst(unit))
			row.Sort[2] = fmt.Sprint(v)
		}
		if prior > 0 {
			v := (cur - prior) * 100 / prior
			row.Cells[3], row.Sort[3] = m.formatPercent(v), fmt.Sprint(v)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}
