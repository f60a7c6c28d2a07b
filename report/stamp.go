package report

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// dataTime is when the site's usage was last updated: the newest arrival
// of a loaded object's bytes (loaded_units.harvested_at). Pages and
// COUNTER files carry it rather than the time of the build, so that a
// rebuild from the same data makes the same bytes and rewrites nothing.
// It is zero for a warehouse that has loaded nothing, or Site.DataTime
// when set.
func (s *Site) dataTime(ctx context.Context) (time.Time, error) {
	if s.DataTime != nil {
		return s.DataTime(), nil
	}
	var n int
	if err := s.DB.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE table_name = 'loaded_units'`).Scan(&n); err != nil {
		return time.Time{}, fmt.Errorf("report data time: %w", err)
	}
	if n == 0 {
		return time.Time{}, nil
	}
	var t sql.NullTime
	if err := s.DB.QueryRowContext(ctx, `SELECT max(harvested_at) FROM loaded_units`).Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("report data time: %w", err)
	}
	return t.Time, nil
}
