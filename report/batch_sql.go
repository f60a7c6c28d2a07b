//go:build !duckdb_arrow

package report

import (
	"context"
	"fmt"
)

// queryBatches runs query and hands its rows to each in batches of columns
// of kinds, scanned by database/sql (a build without the duckdb_arrow tag).
func (s *Site) queryBatches(ctx context.Context, query, kinds string, each func(*batch)) error {
	if err := checkKinds(kinds); err != nil {
		return err
	}
	rows, err := s.DB.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	const size = 2048
	b := newBatch(kinds)
	b.reset(kinds, size)
	dest := make([]any, len(kinds))
	strs := make([]string, len(kinds))
	n := 0
	for rows.Next() {
		for c, k := range []byte(kinds) {
			switch k {
			case 's':
				dest[c] = &strs[c]
			case 'i':
				dest[c] = &b.int[c][n]
			case 'f':
				dest[c] = &b.float[c][n]
			case 'd':
				dest[c] = &b.date[c][n]
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("row %d: %w", n, err)
		}
		for c, k := range []byte(kinds) {
			if k == 's' {
				b.str[c][n] = b.text(strs[c])
			}
		}
		if n++; n == size {
			each(b)
			b.reset(kinds, size)
			n = 0
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	b.n = n
	each(b)
	return nil
}
