package report

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"
)

// fillUsage puts a scope's coverage, charts, tables and downloads on p,
// then the comparisons' links; a scope without usage gets one sentence
// saying so and nothing empty. It returns the digest of the page's inputs
// ("" for a page without usage, which is always made), and whether the
// page at rel is as a build from that digest left it: then p is not
// filled, and the page needs no making.
func (s *Site) fillUsage(ctx context.Context, p *page, sc Scope, libs []libraryRow, links []*table, rel, tpl string) (string, bool, error) {
	m := p.M
	rows, err := s.usage(ctx, sc)
	if err != nil {
		return "", false, err
	}
	if len(rows) == 0 {
		p.Coverage = s.coverage(m, sc, libs)
		p.NoUsage = fmt.Sprintf(m.NoUsage, sc.Name)
		p.Tables = append(p.Tables, links...)
		return "", false, nil
	}
	downloads, digest, err := s.writeDownloads(ctx, m, sc, rows, libs)
	if err != nil {
		return "", false, err
	}
	top, err := s.topTitles(ctx, m, sc)
	if err != nil {
		return "", false, err
	}
	if s.record != nil {
		digest = s.pageDigest(pageInputs{rel: rel, tpl: tpl, p: p, downloads: digest, rows: rows, libs: libs,
			top: top, links: links, nation: sc.Kind == "nation"})
		if s.pageUnchanged(rel, digest) {
			return digest, true, nil
		}
	}
	p.Coverage = s.coverage(m, sc, libs)
	year := latestYear(rows)
	p.Charts = []*table{s.trend(m, rows), s.platformChart(m, rows, year)}
	p.Tables = []*table{s.allMetrics(m, rows, year), s.yearOverYear(m, rows, year), s.perCapita(m, sc, libs, year)}
	if sc.Kind != "library" {
		p.Tables = append(p.Tables, s.compare(m, libs, year))
	}
	if len(top) > 0 {
		t := &table{ID: "top", Heading: m.TopTitles, Caption: fmt.Sprintf(m.TopCaption, lowerFirst(m.metric(trendMetric))),
			RowHead: m.Title, Series: []string{m.Platform, m.Uses}, Links: []string{"", anchor(trendMetric)}, NoChart: true, Text: 1}
		for _, r := range top {
			t.Rows = append(t.Rows, tableRow{Label: r[0], Cells: []string{r[1], r[2]}})
		}
		p.Tables = append(p.Tables, t)
	}
	p.Tables = append(p.Tables, links...)
	p.Downloads = downloads
	return digest, false, nil
}

// trend is the trend metric per platform per month: one metric, one line per platform.
func (s *Site) trend(m messages, rows []usageRow) *table {
	label := m.metric(trendMetric)
	t := &table{ID: "trend", Empty: m.NoData, Heading: fmt.Sprintf(m.TrendHeading, label), Caption: fmt.Sprintf(m.TrendCaption, label),
		RowHead: m.Month, Line: true, XTitle: m.AxisMonth, YTitle: label, Explains: anchor(trendMetric)}
	byKey := map[[2]string]float64{}
	platforms, months := map[string]bool{}, map[time.Time]bool{}
	for _, r := range rows {
		if r.Metric != trendMetric {
			continue
		}
		byKey[[2]string{r.Platform, r.Month.Format("2006-01")}] += r.Total
		platforms[r.Platform], months[r.Month] = true, true
	}
	ids := slices.SortedFunc(maps.Keys(platforms), func(a, b string) int { return cmp.Compare(s.platform(a), s.platform(b)) })
	for _, p := range ids {
		t.Series = append(t.Series, s.platform(p))
	}
	for _, mo := range slices.SortedFunc(maps.Keys(months), time.Time.Compare) {
		t.addRow(m.formatMonth(mo), values(byKey, ids, mo.Format("2006-01"), true), m.formatNumber)
	}
	return t
}

// platformChart is the trend metric per platform in the year, the most used first.
func (s *Site) platformChart(m messages, rows []usageRow, year int) *table {
	label := m.metric(trendMetric)
	t := &table{ID: "platforms", Heading: fmt.Sprintf(m.PlatformsHeading, year), Caption: fmt.Sprintf(m.PlatformsCaption, label, year),
		RowHead: m.Platform, Series: []string{label}, Links: []string{anchor(trendMetric)}, XTitle: m.Platform, YTitle: label}
	t.Heading = fmt.Sprintf(m.PlatformsCaption, label, year)
	sums := map[string]float64{}
	for _, r := range rows {
		if r.Metric == trendMetric && r.Month.Year() == year {
			sums[r.Platform] += r.Total
		}
	}
	ids := slices.SortedFunc(maps.Keys(sums), func(a, b string) int {
		return cmp.Or(cmp.Compare(sums[b], sums[a]), cmp.Compare(s.platform(a), s.platform(b)))
	})
	for _, p := range ids {
		t.addRow(s.platform(p), []float64{sums[p]}, m.formatNumber)
	}
	return t
}

// allMetrics is every metric per platform in the year, as a table only:
// metrics are never added up, so they get a column each and no chart.
func (s *Site) allMetrics(m messages, rows []usageRow, year int) *table {
	t := &table{ID: "metrics", Empty: m.NoData, Heading: fmt.Sprintf(m.PlatformsAllCaption, year), Caption: fmt.Sprintf(m.PlatformsAllCaption, year),
		RowHead: m.Platform, NoChart: true, Sortable: true}
	sums := map[[2]string]float64{}
	platforms, metrics := map[string]bool{}, map[string]bool{}
	for _, r := range rows {
		if r.Month.Year() == year {
			sums[[2]string{r.Platform, r.Metric}] += r.Total
			platforms[r.Platform], metrics[r.Metric] = true, true
		}
	}
	var shown []string
	for _, mt := range glossaryMetrics {
		if metrics[mt] {
			shown = append(shown, mt)
			t.Series, t.Links = append(t.Series, m.metric(mt)), append(t.Links, anchor(mt))
		}
	}
	for _, mt := range slices.Sorted(maps.Keys(metrics)) { // R4 metrics, by their own names
		if !slices.Contains(shown, mt) {
			shown = append(shown, mt)
			t.Series, t.Links = append(t.Series, mt), append(t.Links, "")
		}
	}
	ids := slices.SortedFunc(maps.Keys(platforms), func(a, b string) int { return cmp.Compare(s.platform(a), s.platform(b)) })
	for _, p := range ids {
		t.addRow(s.platform(p), values(sums, shown, p, false), m.formatNumber)
	}
	return t
}

// values reads a row of figures from sums keyed by (key, column) or, with
// columnFirst, (column, key). A figure that has no row in the marts is
// NaN, shown as no data: a number never silently becomes zero.
func values(sums map[[2]string]float64, columns []string, key string, columnFirst bool) []float64 {
	out := make([]float64, len(columns))
	for i, c := range columns {
		k := [2]string{key, c}
		if columnFirst {
			k = [2]string{c, key}
		}
		v, ok := sums[k]
		if !ok {
			v = math.NaN()
		}
		out[i] = v
	}
	return out
}

// yearOverYear compares each platform's use in the year's months with the
// same months a year earlier.
func (s *Site) yearOverYear(m messages, rows []usageRow, year int) *table {
	label := m.metric(trendMetric)
	t := &table{ID: "yoy", Heading: fmt.Sprintf(m.YoYHeading, year), Caption: fmt.Sprintf(m.YoYCaption, label, year),
		RowHead: m.Platform, Series: []string{fmt.Sprint(year), m.YoYPrior, m.YoYChange}, NoChart: true, Sortable: true,
		Explains: anchor(trendMetric)}
	cur, prior := map[string]float64{}, map[string]float64{}
	curMonths := map[time.Month]bool{}
	for _, r := range rows {
		if r.Metric == trendMetric && r.Month.Year() == year {
			curMonths[r.Month.Month()] = true
		}
	}
	platforms := map[string]bool{}
	for _, r := range rows {
		if r.Metric != trendMetric || !curMonths[r.Month.Month()] {
			continue
		}
		switch r.Month.Year() {
		case year:
			cur[r.Platform] += r.Total
			platforms[r.Platform] = true
		case year - 1:
			prior[r.Platform] += r.Total
			platforms[r.Platform] = true
		}
	}
	ids := slices.SortedFunc(maps.Keys(platforms), func(a, b string) int { return cmp.Compare(s.platform(a), s.platform(b)) })
	for _, p := range ids {
		row := tableRow{Label: s.platform(p), Cells: []string{m.formatNumber(cur[p]), m.NoData, m.NoData},
			Sort: []string{fmt.Sprint(cur[p]), "", ""}}
		if prior[p] > 0 {
			change := (cur[p] - prior[p]) * 100 / prior[p]
			row.Cells[1], row.Cells[2] = m.formatNumber(prior[p]), m.formatPercent(change)
			row.Sort[1], row.Sort[2] = fmt.Sprint(prior[p]), fmt.Sprint(change)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// lowerFirst lowers a label's first letter for use inside a sentence.
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}

// anchor is a metric's entry in the glossary.
func anchor(metric string) string { return "m-" + metric }
