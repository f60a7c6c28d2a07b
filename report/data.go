package report

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/bibliotek24/bibstat/counter"
)

// Scope is whose usage a page or download shows: one library, one county
// (2024 structure, across the reform) or the nation.
type Scope struct {
	Kind      string // "library", "county" or "nation"
	ID        string // library number or county number; "" for the nation
	Name      string
	ISIL      string // libraries only, for the COUNTER header
	FileStem  string // download file name without extension
	Directory string // where the downloads go, relative to the site root
}

// usageRow is usage per platform, release, metric and month. Count is the
// usage attributed directly; Pooled the share allocated from pools; Total both.
type usageRow struct {
	Platform, Release, Metric string
	Month                     time.Time
	Count                     int64
	Pooled, Total             float64
}

// usageQueries read a scope's usage from the marts; each takes the scope id twice at most.
var usageQueries = map[string]string{
	"library": `SELECT platform, release, metric_type, month, count, pooled, total
		FROM mart_library_month WHERE library_id = ? ORDER BY ALL`,
	"county": `SELECT platform, '', metric_type, month, round(count)::BIGINT, pooled, total
		FROM mart_county_month_current WHERE county = ? ORDER BY ALL`,
	"nation": `SELECT platform, '', metric_type, month, attributed + unattributed, pooled::DOUBLE, total::DOUBLE
		FROM mart_national_month WHERE ? = '' ORDER BY ALL`,
}

func (s *Site) usage(ctx context.Context, sc Scope) ([]usageRow, error) {
	if sc.Kind == "library" && s.libUsage != nil {
		return s.libUsage[sc.ID], nil
	}
	rows, err := s.DB.QueryContext(ctx, usageQueries[sc.Kind], sc.ID)
	if err != nil {
		return nil, fmt.Errorf("report usage of %s %s: %w", sc.Kind, sc.ID, err)
	}
	defer rows.Close()
	var out []usageRow
	for rows.Next() {
		var r usageRow
		if err := rows.Scan(&r.Platform, &r.Release, &r.Metric, &r.Month, &r.Count, &r.Pooled, &r.Total); err != nil {
			return nil, fmt.Errorf("report usage of %s %s: %w", sc.Kind, sc.ID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// trendMetric is the metric the trend charts follow: it exists for every
// kind of content and is never added to another metric.
const trendMetric = counter.TotalItemRequests

// trend is Total_Item_Requests per platform per month.
func trend(m messages, rows []usageRow) table {
	t := table{ID: "trend", Heading: m.TrendHeading, Caption: m.TrendCaption, RowHead: m.Month, Line: true}
	byKey := map[[2]string]float64{}
	platforms, months := map[string]bool{}, map[time.Time]bool{}
	for _, r := range rows {
		if r.Metric != trendMetric {
			continue
		}
		byKey[[2]string{r.Platform, r.Month.Format("2006-01")}] += r.Total
		platforms[r.Platform], months[r.Month] = true, true
	}
	t.Series = slices.Sorted(maps.Keys(platforms))
	for _, mo := range slices.SortedFunc(maps.Keys(months), time.Time.Compare) {
		vals := make([]float64, len(t.Series))
		for i, p := range t.Series {
			vals[i] = byKey[[2]string{p, mo.Format("2006-01")}]
		}
		t.addRow(m.formatMonth(mo), vals, m.formatNumber)
	}
	return t
}

// breakdownMetrics are the metrics the platform breakdown shows, when present.
var breakdownMetrics = []string{counter.SearchesPlatform, counter.SearchesRegular, counter.TotalItemInvestigations,
	counter.TotalItemRequests, counter.UniqueItemRequests, counter.UniqueTitleRequests}

// breakdown is each platform's usage per metric in the latest year with usage.
func breakdown(m messages, rows []usageRow) table {
	year := latestYear(rows)
	t := table{ID: "platforms", Heading: fmt.Sprintf("%s %d", m.BreakdownHeading, year),
		Caption: fmt.Sprintf("%s %d", m.BreakdownCaption, year), RowHead: m.Platform}
	sums := map[[2]string]float64{}
	platforms, metrics := map[string]bool{}, map[string]bool{}
	for _, r := range rows {
		if r.Month.Year() == year {
			sums[[2]string{r.Platform, r.Metric}] += r.Total
			platforms[r.Platform], metrics[r.Metric] = true, true
		}
	}
	for _, mt := range breakdownMetrics {
		if metrics[mt] {
			t.Series = append(t.Series, mt)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(platforms)) {
		vals := make([]float64, len(t.Series))
		for i, mt := range t.Series {
			vals[i] = sums[[2]string{p, mt}]
		}
		t.addRow(p, vals, m.formatNumber)
	}
	return t
}

// yoyRow compares a platform's usage in the latest year's months with the
// same months a year earlier.
type yoyRow struct {
	Platform, Current, Prior, Change string
}

func yearOverYear(m messages, rows []usageRow) (int, []yoyRow) {
	year := latestYear(rows)
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
	var out []yoyRow
	for _, p := range slices.Sorted(maps.Keys(platforms)) {
		row := yoyRow{Platform: p, Current: m.formatNumber(cur[p]), Prior: m.NoData, Change: m.NoData}
		if prior[p] > 0 {
			row.Prior = m.formatNumber(prior[p])
			row.Change = m.formatPercent((cur[p] - prior[p]) * 100 / prior[p])
		}
		out = append(out, row)
	}
	return year, out
}

// populationQueries give a scope's inhabitants in a year.
var populationQueries = map[string]string{
	"library": `SELECT coalesce(max(population), 0) FROM library_population WHERE library_id = ? AND year = ?`,
	"county": `SELECT coalesce(sum(py.population), 0)::BIGINT FROM population_by_year py
		JOIN municipalities mu USING (municipality) WHERE mu.county = ? AND py.year = ?`,
	"nation": `SELECT coalesce(sum(population), 0)::BIGINT FROM population_by_year WHERE ? = '' AND year = ?`,
}

// perInhabitant is Total_Item_Requests per 1,000 inhabitants per platform in the latest year.
func (s *Site) perInhabitant(ctx context.Context, m messages, sc Scope, rows []usageRow) (perCapita, error) {
	year := latestYear(rows)
	pc := perCapita{Year: year}
	var pop int64
	if sc.Kind == "library" && s.libPop != nil {
		pop = s.libPop[sc.ID][year]
	} else if err := s.DB.QueryRowContext(ctx, populationQueries[sc.Kind], sc.ID, year).Scan(&pop); err != nil {
		return pc, fmt.Errorf("report population of %s %s: %w", sc.Kind, sc.ID, err)
	}
	pc.Population = m.formatInt(pop)
	sums := map[string]float64{}
	for _, r := range rows {
		if r.Metric == trendMetric && r.Month.Year() == year {
			sums[r.Platform] += r.Total
		}
	}
	for _, p := range slices.Sorted(maps.Keys(sums)) {
		v := m.NoData
		if pop > 0 {
			v = m.formatDecimal(sums[p] * 1000 / float64(pop))
		}
		pc.Rows = append(pc.Rows, [2]string{p, v})
	}
	return pc, nil
}

type perCapita struct {
	Year       int
	Population string
	Rows       [][2]string // platform, per 1,000
}

// topTitles are the most requested titles of a library or the nation.
func (s *Site) topTitles(ctx context.Context, m messages, sc Scope) ([][3]string, error) {
	switch {
	case sc.Kind == "county":
		return nil, nil
	case sc.Kind == "library" && s.libTop != nil:
		return s.libTop[sc.ID], nil
	}
	top, err := s.queryTopTitles(ctx, m, `SELECT '', title, platform, sum(count) AS n FROM facts
		WHERE title <> '' AND metric_type = ? GROUP BY ALL ORDER BY n DESC, title LIMIT 10`)
	return top[""], err
}

// queryTopTitles reads (key, title, platform, uses) rows into lists per key.
func (s *Site) queryTopTitles(ctx context.Context, m messages, query string) (map[string][][3]string, error) {
	rows, err := s.DB.QueryContext(ctx, query, trendMetric)
	if err != nil {
		return nil, fmt.Errorf("report top titles: %w", err)
	}
	defer rows.Close()
	out := map[string][][3]string{}
	for rows.Next() {
		var key, title, platform string
		var n int64
		if err := rows.Scan(&key, &title, &platform, &n); err != nil {
			return nil, fmt.Errorf("report top titles: %w", err)
		}
		out[key] = append(out[key], [3]string{title, platform, m.formatInt(n)})
	}
	return out, rows.Err()
}

// prefetchLibraries reads every library's usage, top titles and inhabitants
// in one query each: a site has hundreds of library pages, and one scan
// beats hundreds.
func (s *Site) prefetchLibraries(ctx context.Context, m messages) error {
	rows, err := s.DB.QueryContext(ctx, `SELECT library_id, platform, release, metric_type, month, count, pooled, total
		FROM mart_library_month ORDER BY ALL`)
	if err != nil {
		return fmt.Errorf("report usage of libraries: %w", err)
	}
	defer rows.Close()
	s.libUsage = map[string][]usageRow{}
	for rows.Next() {
		var id string
		var r usageRow
		if err := rows.Scan(&id, &r.Platform, &r.Release, &r.Metric, &r.Month, &r.Count, &r.Pooled, &r.Total); err != nil {
			return fmt.Errorf("report usage of libraries: %w", err)
		}
		s.libUsage[id] = append(s.libUsage[id], r)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	s.libTop, err = s.queryTopTitles(ctx, m, `SELECT library_id, title, platform, n FROM (
		SELECT library_id, title, platform, sum(count) AS n,
		       row_number() OVER (PARTITION BY library_id ORDER BY sum(count) DESC, title) AS rank
		FROM facts WHERE title <> '' AND metric_type = ? GROUP BY library_id, title, platform)
		WHERE rank <= 10 ORDER BY library_id, rank`)
	if err != nil {
		return err
	}
	// As populationQueries["library"], for every library and year at once.
	pops, err := s.DB.QueryContext(ctx, `SELECT library_id, year, coalesce(max(population), 0)
		FROM library_population GROUP BY library_id, year`)
	if err != nil {
		return fmt.Errorf("report population of libraries: %w", err)
	}
	defer pops.Close()
	s.libPop = map[string]map[int]int64{}
	for pops.Next() {
		var id string
		var year int
		var pop int64
		if err := pops.Scan(&id, &year, &pop); err != nil {
			return fmt.Errorf("report population of libraries: %w", err)
		}
		if s.libPop[id] == nil {
			s.libPop[id] = map[int]int64{}
		}
		s.libPop[id][year] = pop
	}
	return pops.Err()
}

func latestYear(rows []usageRow) int {
	year := 0
	for _, r := range rows {
		year = max(year, r.Month.Year())
	}
	return year
}
