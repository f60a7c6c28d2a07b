package report

import (
	"context"
	"fmt"

	"github.com/bibliotek24/bibstat"
)

// libraries lists the register, each library in its one county
// (library_county: a library split over two municipalities, old Ålesund,
// is in the county of the larger share), as the portal's access check
// and the agreements place it. A school library (type VGS) serves pupils,
// not inhabitants: its population figure is its pupils.
func (s *Site) libraries(ctx context.Context, m messages) ([]libraryRow, error) {
	rows, err := s.DB.QueryContext(ctx, `
		SELECT l.library_id, l.isil, l.name, coalesce(mu.name, l.municipality), coalesce(c.county, ''), l.type = 'VGS',
		       coalesce((SELECT max_by(population, year) FROM library_population p WHERE p.library_id = l.library_id), 0)
		FROM libraries l
		LEFT JOIN municipalities mu ON mu.municipality = l.municipality
		LEFT JOIN library_county c USING (library_id)
		ORDER BY l.name, l.library_id`)
	if err != nil {
		return nil, fmt.Errorf("report libraries: %w", err)
	}
	defer rows.Close()
	var out []libraryRow
	for rows.Next() {
		var r libraryRow
		if err := rows.Scan(&r.ID, &r.ISIL, &r.Name, &r.Municipality, &r.County, &r.School, &r.Population); err != nil {
			return nil, fmt.Errorf("report libraries: %w", err)
		}
		if bibstat.CheckSegment(r.ID) != nil {
			return nil, fmt.Errorf("report libraries: library id %q cannot name a page", r.ID)
		}
		var total float64
		for _, u := range s.libUsage[r.ID] {
			if u.Metric == trendMetric {
				total += u.Total
			}
		}
		r.HasData = len(s.libUsage[r.ID]) > 0
		r.Total = m.NoData
		if r.HasData {
			r.Total = m.formatNumber(total)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// counties are today's counties, each with whether any of its libraries has usage.
func (s *Site) counties(ctx context.Context, libs []libraryRow) ([]countyRow, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT county, name FROM counties WHERE valid_to IS NULL ORDER BY county`)
	if err != nil {
		return nil, fmt.Errorf("report counties: %w", err)
	}
	defer rows.Close()
	var out []countyRow
	for rows.Next() {
		var c countyRow
		if err := rows.Scan(&c.ID, &c.Name); err != nil {
			return nil, fmt.Errorf("report counties: %w", err)
		}
		if bibstat.CheckSegment(c.ID) != nil {
			return nil, fmt.Errorf("report counties: county %q cannot name a page", c.ID)
		}
		for _, l := range libs {
			c.HasData = c.HasData || (l.County == c.ID && l.HasData)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// countyNames names every county code of both structures (an agreement's
// participant may be a county of 2020–2023).
func (s *Site) countyNames(ctx context.Context) (map[string]string, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT county, max_by(name, valid_from) FROM counties GROUP BY county`)
	if err != nil {
		return nil, fmt.Errorf("report county names: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("report county names: %w", err)
		}
		out[id] = name
	}
	return out, rows.Err()
}
