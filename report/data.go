package report

import (
	"context"
	"fmt"
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

// usageQueries read a scope's usage from the marts, summed over the data
// types the marts also keep apart (the pages show usage per platform, and
// a platform's data types never share a use); each takes the scope id.
var usageQueries = map[string]string{
	"library": `SELECT platform, release, metric_type, month, sum(count)::BIGINT, sum(pooled), sum(total)
		FROM mart_library_month WHERE library_id = ? GROUP BY ALL ORDER BY ALL`,
	"county": `SELECT platform, '', metric_type, month, round(sum(count))::BIGINT, sum(pooled), sum(total)
		FROM mart_county_month_current WHERE county = ? GROUP BY ALL ORDER BY ALL`,
	"nation": `SELECT platform, '', metric_type, month, sum(attributed + unattributed)::BIGINT, sum(pooled)::DOUBLE, sum(total)::DOUBLE
		FROM mart_national_month WHERE ? = '' GROUP BY ALL ORDER BY ALL`,
}

func (s *Site) usage(ctx context.Context, sc Scope) ([]usageRow, error) {
	switch {
	case sc.Kind == "library" && s.libUsage != nil:
		return s.libUsage[sc.ID], nil
	case sc.Kind == "county" && s.countyUsage != nil:
		return s.countyUsage[sc.ID], nil
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

// topTitles are the most requested titles of a library or the nation.
func (s *Site) topTitles(ctx context.Context, m messages, sc Scope) ([][3]string, error) {
	switch {
	case sc.Kind == "county":
		return nil, nil
	case sc.Kind == "library" && s.libTop != nil:
		return s.libTop[sc.ID], nil
	}
	top, err := s.queryTopTitles(ctx, m, `SELECT '', title, platform, sum(count)::BIGINT AS n FROM `+s.titleSource(ctx)+`
		WHERE title <> '' AND metric_type = ? GROUP BY ALL ORDER BY n DESC, title, platform LIMIT 10`)
	return top[""], err
}

// titleSource is where titles' usage is read: mart_title_month, which
// applies the marts' rules of choice (pooled usage stays under its pool),
// or the facts of a warehouse made before it. Both name the library (or
// the pool) as target_id.
func (s *Site) titleSource(ctx context.Context) string {
	if ok, err := hasRelation(ctx, s.DB, "mart_title_month"); err == nil && ok {
		return `mart_title_month`
	}
	return `(SELECT 'library' AS target_kind, library_id AS target_id, * EXCLUDE (library_id) FROM facts)`
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
		out[key] = append(out[key], [3]string{title, s.platform(platform), m.formatInt(n)})
	}
	return out, rows.Err()
}

// prefetchLibraries reads every library's and county's usage, the
// libraries' top titles and inhabitants, and the COUNTER downloads' rows in
// one query each: a site has hundreds of pages, and one scan beats hundreds.
func (s *Site) prefetchLibraries(ctx context.Context, m messages) error {
	var err error
	if s.libUsage, err = s.scopeUsage(ctx, `SELECT library_id, platform, release, metric_type, month, sum(count)::BIGINT, sum(pooled), sum(total)
		FROM mart_library_month GROUP BY ALL ORDER BY ALL`); err != nil {
		return fmt.Errorf("report usage of libraries: %w", err)
	}
	if s.countyUsage, err = s.scopeUsage(ctx, `SELECT county, platform, '', metric_type, month, round(sum(count))::BIGINT, sum(pooled), sum(total)
		FROM mart_county_month_current GROUP BY ALL ORDER BY ALL`); err != nil {
		return fmt.Errorf("report usage of counties: %w", err)
	}
	s.libTop, err = s.queryTopTitles(ctx, m, `SELECT library_id, title, platform, n FROM (
		SELECT target_id AS library_id, title, platform, sum(count)::BIGINT AS n,
		       row_number() OVER (PARTITION BY target_id ORDER BY sum(count) DESC, title, platform) AS rank
		FROM `+s.titleSource(ctx)+` WHERE target_kind = 'library' AND title <> '' AND metric_type = ?
		GROUP BY target_id, title, platform)
		WHERE rank <= 10 ORDER BY library_id, rank`)
	if err != nil {
		return err
	}
	if err := s.prefetchCounter(ctx); err != nil {
		return err
	}
	if err := s.prefetchComparison(ctx); err != nil {
		return err
	}
	// The one definition of a library's inhabitants (or a school's pupils) per year.
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

// scopeUsage reads (scope id, usageRow) rows into lists per scope.
func (s *Site) scopeUsage(ctx context.Context, query string) (map[string][]usageRow, error) {
	return byScope(ctx, s, query, "sssdiff", func(b *batch, i int) usageRow {
		return usageRow{Platform: b.str[1][i], Release: b.str[2][i], Metric: b.str[3][i], Month: b.date[4][i],
			Count: b.int[5][i], Pooled: b.float[6][i], Total: b.float[7][i]}
	})
}

func latestYear(rows []usageRow) int {
	year := 0
	for _, r := range rows {
		year = max(year, r.Month.Year())
	}
	return year
}

// counterPrefetch read, for every library or county at once, the rows
// counterQueries read for one.
var counterPrefetch = map[string]string{
	"library": `SELECT library_id, platform, coalesce(data_type, ''), metric_type, month, sum(count)::BIGINT
		FROM mart_library_month WHERE release <> '4' GROUP BY ALL ORDER BY ALL`,
	"county": `SELECT county, platform, coalesce(data_type, ''), metric_type, month, round(count)::BIGINT
		FROM mart_county_month_current ORDER BY ALL`,
}

// prefetchCounter reads every library's and county's rows for its COUNTER
// download, so that counterRows asks no more; a scope with usage but no
// row (R4 only) has an empty list. A mart without data_type is left to
// counterRows.
func (s *Site) prefetchCounter(ctx context.Context) error {
	s.counterCache = map[string]map[string][]counterRow{}
	for kind, query := range counterPrefetch {
		var typed int
		if err := s.DB.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.columns
			WHERE table_name = ? AND column_name = 'data_type'`, counterQueries[kind].table).Scan(&typed); err != nil {
			return fmt.Errorf("COUNTER downloads: %w", err)
		}
		if typed == 0 {
			continue
		}
		rows, err := byScope(ctx, s, query, "sssdi", func(b *batch, i int) counterRow {
			return counterRow{Platform: b.str[1][i], DataType: b.str[2][i], Metric: b.str[3][i], Month: b.date[4][i], Count: b.int[5][i]}
		})
		if err != nil {
			return fmt.Errorf("COUNTER downloads: %w", err)
		}
		if kind == "library" {
			for id := range s.libUsage {
				if rows[id] == nil {
					rows[id] = []counterRow{}
				}
			}
		}
		s.counterCache[kind] = rows
	}
	return nil
}
