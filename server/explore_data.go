package server

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/report"
)

// series is one library's or area's use of the chosen metric per month.
// A month absent had no usage data; a month with data but no row of the
// metric is 0, since a COUNTER report leaves out the rows it has nothing for.
type series struct {
	Name   string
	Values map[bibstat.Month]float64
}

// at is the value of month m, NaN when there is no data.
func (s series) at(m bibstat.Month) float64 {
	if v, ok := s.Values[m]; ok {
		return v
	}
	return math.NaN()
}

// seriesSource is where one kind of entity's usage is: a mart and its key column.
type seriesSource struct{ mart, key string }

var (
	librarySeries  = seriesSource{"mart_library_month", "library_id"}
	countySeries   = seriesSource{"mart_county_month_current", "county"}
	nationalSeries = seriesSource{"mart_national_month", "''"}
)

// exploreSeries reads every chosen entity's series, libraries first, then
// counties, then the country, in the order of the options; by platform,
// the one entity's platforms by name.
func (s *Server) exploreSeries(ctx context.Context, c exploreChoice, o exploreOptions, m report.Messages, w exploreWords) ([]series, error) {
	if c.ByPlatform {
		src, keys := librarySeries, []string{}
		for _, l := range c.Libraries {
			keys = append(keys, string(l))
		}
		switch {
		case len(c.Counties) == 1:
			src, keys = countySeries, c.Counties
		case c.National:
			src, keys = nationalSeries, nil
		}
		got, err := s.readSeries(ctx, src, keys, c)
		if err != nil {
			return nil, err
		}
		var out []series
		for p, vals := range got {
			out = append(out, series{Name: s.platformName(p), Values: vals})
		}
		slices.SortFunc(out, func(a, b series) int { return strings.Compare(a.Name, b.Name) })
		return out, nil
	}
	var out []series
	var libs []string
	for _, l := range o.Libraries {
		if slices.Contains(c.Libraries, l.ID) {
			libs = append(libs, string(l.ID))
		}
	}
	got, err := s.readSeries(ctx, librarySeries, libs, c)
	if err != nil {
		return nil, err
	}
	for _, l := range o.Libraries {
		if slices.Contains(c.Libraries, l.ID) {
			out = append(out, series{Name: l.Name, Values: got[string(l.ID)]})
		}
	}
	var counties []string
	for _, a := range o.Counties {
		if slices.Contains(c.Counties, a.ID) {
			counties = append(counties, a.ID)
		}
	}
	if got, err = s.readSeries(ctx, countySeries, counties, c); err != nil {
		return nil, err
	}
	for _, a := range o.Counties {
		if slices.Contains(c.Counties, a.ID) {
			out = append(out, series{Name: fmt.Sprintf(w.CountyOf, a.Name), Values: got[a.ID]})
		}
	}
	if c.National {
		if got, err = s.readSeries(ctx, nationalSeries, nil, c); err != nil {
			return nil, err
		}
		out = append(out, series{Name: m.National, Values: got[""]})
	}
	return out, nil
}

// readSeries sums the chosen metric over the chosen platforms per key and
// month; keys nil reads the national mart, which has no key.
func (s *Server) readSeries(ctx context.Context, src seriesSource, keys []string, c exploreChoice) (map[string]map[bibstat.Month]float64, error) {
	out := map[string]map[bibstat.Month]float64{}
	if len(keys) == 0 && src != nationalSeries {
		return out, nil
	}
	// The tables and columns are the constants above; every value is a parameter.
	key := src.key
	if c.ByPlatform {
		key = "platform" // one entity, a line per platform
	}
	q := `SELECT ` + key + `, month, coalesce(sum(total) FILTER (WHERE metric_type = ?), 0)::DOUBLE
		FROM ` + src.mart + ` WHERE month BETWEEN ? AND ?`
	args := []any{c.Metric, c.From.First(), c.To.First()}
	q, args = inList(q, args, src.key, keys)
	q, args = inList(q, args, "platform", c.Platforms)
	rows, err := s.cfg.DB.QueryContext(ctx, q+` GROUP BY ALL`, args...)
	if err != nil {
		return nil, fmt.Errorf("explore %s: %w", src.mart, err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var month time.Time
		var v float64
		if err := rows.Scan(&key, &month, &v); err != nil {
			return nil, fmt.Errorf("explore %s: %w", src.mart, err)
		}
		if out[key] == nil {
			out[key] = map[bibstat.Month]float64{}
		}
		out[key][bibstat.MonthOf(month)] = v
	}
	return out, rows.Err()
}

// inList adds "AND col IN (?, …)" for vals, when there are any.
func inList(q string, args []any, col string, vals []string) (string, []any) {
	if len(vals) == 0 || col == "''" {
		return q, args
	}
	q += ` AND ` + col + ` IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ") + `)`
	for _, v := range vals {
		args = append(args, v)
	}
	return q, args
}

// downloadRows are the choice's usage per library, platform, release and
// month, each library once however many chosen areas hold it, so that the
// rows add up without counting a use twice. The country adds the usage no
// library could be attributed, under no number, as the site's download does.
func (s *Server) downloadRows(ctx context.Context, c exploreChoice, o exploreOptions, m report.Messages) ([]report.UsageRow, error) {
	names := map[string]string{}
	var libs []string
	for _, l := range o.Libraries {
		names[string(l.ID)] = l.Name
		if c.National || slices.Contains(c.Libraries, l.ID) || slices.Contains(c.Counties, l.County) {
			libs = append(libs, string(l.ID))
		}
	}
	// One query: the libraries' rows, then the country's unattributed ones.
	var parts []string
	var args []any
	if len(libs) > 0 {
		q := `SELECT library_id, platform, release, month, sum(count)::BIGINT, round(sum(pooled), 6), round(sum(total), 6)
			FROM mart_library_month WHERE metric_type = ? AND month BETWEEN ? AND ?`
		args = append(args, c.Metric, c.From.First(), c.To.First())
		if !c.National {
			q, args = inList(q, args, "library_id", libs)
		}
		q, args = inList(q, args, "platform", c.Platforms)
		parts = append(parts, q+` GROUP BY ALL`)
	}
	if c.National {
		q := `SELECT '' AS library_id, platform, '' AS release, month, sum(unattributed)::BIGINT, 0::DOUBLE, sum(unattributed)::DOUBLE
			FROM mart_national_month WHERE metric_type = ? AND month BETWEEN ? AND ? AND unattributed <> 0`
		args = append(args, c.Metric, c.From.First(), c.To.First())
		q, args = inList(q, args, "platform", c.Platforms)
		parts = append(parts, q+` GROUP BY ALL`)
	}
	if len(parts) == 0 {
		return nil, nil
	}
	rows, err := s.cfg.DB.QueryContext(ctx, `SELECT * FROM (`+strings.Join(parts, " UNION ALL ")+`)
		ORDER BY library_id = '', library_id, platform, release, month`, args...)
	if err != nil {
		return nil, fmt.Errorf("explore download: %w", err)
	}
	defer rows.Close()
	var out []report.UsageRow
	for rows.Next() {
		r := report.UsageRow{Metric: c.Metric}
		if err := rows.Scan(&r.ID, &r.Platform, &r.Release, &r.Month, &r.Count, &r.Pooled, &r.Total); err != nil {
			return nil, fmt.Errorf("explore download: %w", err)
		}
		r.Name = names[r.ID]
		if r.ID == "" {
			r.Name = m.Unattributed
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
