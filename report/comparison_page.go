package report

import (
	"cmp"
	"fmt"
	"maps"
	"path"
	"slices"
)

// comparisonView is what a comparison page says besides its charts: which
// source counts, how a sum is made, and where to go on from it.
type comparisonView struct {
	Counted, SumNote string
	Links            []download // Name is relative to the site root
}

// comparisonDir is where the comparison pages are, under the site root.
const comparisonDir = "sammenligning"

// comparisonPage is a platform's comparison page, relative to the root;
// with a library, that library's.
func comparisonPage(platform, library string) string {
	if library == "" {
		return comparisonDir + "/" + fileStem(platform) + ".html"
	}
	return comparisonDir + "/" + fileStem(platform) + "/" + fileStem(library) + ".html"
}

// comparisonJobs are the writers of every comparison page: per platform
// that has both sources, the nation's page and each of its libraries'.
// They run with the site's other pages.
func (s *Site) comparisonJobs(common page, libs []libraryRow, emit emitFunc) []func() error {
	names := map[string]string{}
	for _, l := range libs {
		names[l.ID] = l.Name
	}
	var jobs []func() error
	d := s.comparison
	for _, platform := range slices.Sorted(maps.Keys(d.rows)) {
		jobs = append(jobs, func() error { return s.comparisonPlatformPage(common, platform, libs, emit) })
		for lib, lrows := range d.byLibrary[platform] {
			if name, ok := names[lib]; ok { // a library the register lacks has no page of its own
				jobs = append(jobs, func() error { return s.comparisonLibraryPage(common, platform, lib, name, lrows, emit) })
			}
		}
	}
	return jobs
}

// byMetric splits rows per metric, in the glossary's order.
func byMetric(rows []ComparisonRow) ([]string, map[string][]ComparisonRow) {
	out := map[string][]ComparisonRow{}
	for _, r := range rows {
		out[r.Metric] = append(out[r.Metric], r)
	}
	return comparisonMetrics(rows), out
}

// comparisonPlatformPage writes a platform's page: the nation's sums per
// metric and month, then its libraries side by side.
func (s *Site) comparisonPlatformPage(common page, platform string, libs []libraryRow, emit emitFunc) error {
	m := common.M
	rows := s.comparison.rows[platform]
	w := m.Comparison
	p := common
	p.Title, p.Root, p.Intro = fmt.Sprintf(w.PageTitle, s.platform(platform)), "../", w.Intro
	p.Comparison = &comparisonView{Counted: m.CountedSentence(s.comparison.sums[platform]), SumNote: w.SumNote,
		Links: []download{{"nasjonalt.html", m.National}}}
	metrics, sums := byMetric(s.comparison.sums[platform])
	for i, mt := range metrics {
		p.Charts = append(p.Charts, m.comparisonTable(fmt.Sprintf("cmp%d", i), mt, sums[mt], true))
	}
	p.Tables = []*table{s.comparisonLibraries(m, platform, libs)}
	rel := comparisonPage(platform, "")
	var err error
	if p.Downloads, err = s.writeComparisonDownloads(m, path.Dir(rel), fileStem(platform)+"-sammenligning", rows, libs); err != nil {
		return err
	}
	return emit(rel, "comparison.html", p)
}

// comparisonLibraryPage writes one library's comparison of a platform.
func (s *Site) comparisonLibraryPage(common page, platform, lib, name string, rows []ComparisonRow, emit emitFunc) error {
	m := common.M
	w := m.Comparison
	p := common
	p.Title, p.Root, p.Intro = fmt.Sprintf(w.LibraryTitle, s.platform(platform), name), "../../", w.Intro
	p.Comparison = &comparisonView{Counted: m.CountedSentence(rows), Links: []download{
		{comparisonPage(platform, ""), fmt.Sprintf(w.ToPlatform, s.platform(platform))},
		{"bibliotek/" + lib + ".html", fmt.Sprintf(w.ToLibrary, name)}}}
	metrics, per := byMetric(rows)
	for i, mt := range metrics {
		p.Charts = append(p.Charts, m.comparisonTable(fmt.Sprintf("cmp%d", i), mt, per[mt], false))
	}
	rel := comparisonPage(platform, lib)
	var err error
	if p.Downloads, err = s.writeComparisonDownloads(m, path.Dir(rel), fileStem(lib)+"-sammenligning", rows, []libraryRow{{ID: lib, Name: name}}); err != nil {
		return err
	}
	return emit(rel, "comparison.html", p)
}

// comparisonTotal sums one library's months of a metric that have both
// figures: Both is how many, Libraries how many months it has at all.
func comparisonTotal(rows []ComparisonRow) (total ComparisonRow, drifting int) {
	for _, r := range rows {
		total.Libraries++
		if !r.both() {
			continue
		}
		total.Both++
		total.Vendor.Int64 += r.Vendor.Int64
		total.Login.Int64 += r.Login.Int64
		total.Difference.Int64 += r.Difference.Int64
		total.Vendor.Valid, total.Login.Valid, total.Difference.Valid = true, true, true
		if r.Drifts() {
			drifting++
		}
	}
	return total, drifting
}

// comparisonLibraries is each library's trend metric over the months it
// has both figures, with how many of them drift, linked to its own page.
func (s *Site) comparisonLibraries(m messages, platform string, libs []libraryRow) *table {
	w := m.Comparison
	label := m.metric(trendMetric)
	limit := m.formatInt(driftPercent) + m.PercentSign
	t := &table{ID: "cmp-libraries", Heading: fmt.Sprintf(w.LibrariesHeading, label), Caption: fmt.Sprintf(w.LibrariesCaption, label),
		RowHead: m.Library, NoChart: true, Sortable: true, Explains: anchor(trendMetric), Empty: m.NoData,
		Series: []string{w.MonthsBoth, w.Vendor, w.Login, w.Difference, w.DifferencePercent, fmt.Sprintf(w.MonthsDrift, limit)}}
	per := map[string][]ComparisonRow{}
	for id, rows := range s.comparison.byLibrary[platform] {
		per[id] = metricRows(rows, trendMetric)
	}
	order := make([]string, 0, len(per))
	named := map[string]string{}
	for _, l := range libs {
		if per[l.ID] != nil {
			order, named[l.ID] = append(order, l.ID), l.Name
		}
	}
	for _, id := range slices.Sorted(maps.Keys(per)) {
		if _, ok := named[id]; !ok {
			order = append(order, id) // not in the register: by its number, without a page
		}
	}
	for _, id := range order {
		total, drifting := comparisonTotal(per[id])
		row := tableRow{Label: id}
		if name, ok := named[id]; ok {
			row.Label, row.Link = name, comparisonPage(platform, id)
		}
		row.Cells = append([]string{fmt.Sprintf(w.ComparedOf, m.formatInt(int64(total.Both)), m.months(total.Libraries))},
			m.ComparisonCells(total)...)
		row.Sort = append([]string{fmt.Sprint(total.Both)}, comparisonSort(total)...)
		if total.Both > 0 {
			row.Cells, row.Sort = append(row.Cells, m.formatInt(int64(drifting))), append(row.Sort, fmt.Sprint(drifting))
		} else {
			row.Cells, row.Sort = append(row.Cells, m.NoData), append(row.Sort, "")
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// comparisonLinks is the table of a library's comparisons (lib "": the
// platforms' pages, for the nation's page), or nil when it has none: per
// platform, which source counts and in how many months the trend metric
// drifts.
func (s *Site) comparisonLinks(m messages, lib string) []*table {
	if len(s.comparison.rows) == 0 {
		return nil
	}
	w := m.Comparison
	limit := m.formatInt(driftPercent) + m.PercentSign
	t := &table{ID: "cmp-links", Heading: w.Heading, Intro: w.LinksIntro, Caption: w.LinksCaption, RowHead: m.Platform,
		NoChart: true, Text: 1, Series: []string{w.CountedColumn, fmt.Sprintf(w.MonthsDrift, limit) + ": " + lowerFirst(m.metric(trendMetric))},
		Links: []string{"", anchor(trendMetric)}}
	platforms := slices.SortedFunc(maps.Keys(s.comparison.rows), func(a, b string) int {
		return cmp.Compare(s.platform(a), s.platform(b))
	})
	for _, platform := range platforms {
		rows := s.comparison.sums[platform]
		if lib != "" {
			rows = s.comparison.byLibrary[platform][lib]
		}
		if len(rows) == 0 {
			continue
		}
		total, drifting := comparisonTotal(metricRows(rows, trendMetric))
		drift := m.NoData
		if total.Both > 0 {
			drift = fmt.Sprintf(w.ComparedOf, m.formatInt(int64(drifting)), m.months(total.Both))
		}
		t.Rows = append(t.Rows, tableRow{Label: s.platform(platform), Link: comparisonPage(platform, lib),
			Cells: []string{m.countedWords(rows), drift}})
	}
	if len(t.Rows) == 0 {
		return nil
	}
	return []*table{t}
}

// metricRows are the rows of one metric.
func metricRows(rows []ComparisonRow, metric string) []ComparisonRow {
	var out []ComparisonRow
	for _, r := range rows {
		if r.Metric == metric {
			out = append(out, r)
		}
	}
	return out
}

// countedWords names the source that counts in most of rows' months, and
// says when it does not count in all.
func (m messages) countedWords(rows []ComparisonRow) string {
	main, months := countedSources(rows)
	if len(months) > 1 {
		return m.countedName(main) + " (" + m.Comparison.CountedNotAlways + ")"
	}
	return m.countedName(main)
}
