//go:build duckdb_arrow

package report

import (
	"context"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/duckdb/duckdb-go/v2"
)

// queryBatches runs query and hands its rows to each in batches of columns
// of kinds, read from DuckDB's Arrow interface: a column at a time, with
// none of database/sql's conversions per value, which were most of the
// prefetch's time on the hundreds of thousands of rows.
func (s *Site) queryBatches(ctx context.Context, query, kinds string, each func(*batch)) error {
	if err := checkKinds(kinds); err != nil {
		return err
	}
	conn, err := s.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		dconn, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("not a driver connection: %T", dc)
		}
		a, err := duckdb.NewArrowFromConn(dconn)
		if err != nil {
			return err
		}
		recs, err := a.QueryContext(ctx, query)
		if err != nil {
			return err
		}
		defer recs.Release()
		b := newBatch(kinds)
		for recs.Next() {
			if err := b.fill(kinds, recs.RecordBatch()); err != nil {
				return err
			}
			each(b)
		}
		return recs.Err()
	})
}

// textColumn is an Arrow column of text, whichever of its layouts DuckDB sends.
type textColumn interface{ Value(int) string }

// fill makes the batch the record's rows.
func (b *batch) fill(kinds string, rec arrow.RecordBatch) error {
	if int(rec.NumCols()) != len(kinds) {
		return fmt.Errorf("query: %d columns, want %d", rec.NumCols(), len(kinds))
	}
	n := int(rec.NumRows())
	b.reset(kinds, n)
	for c, k := range []byte(kinds) {
		col := rec.Column(c)
		if col.NullN() > 0 {
			return fmt.Errorf("query: column %d (%s) holds NULL", c, rec.ColumnName(c))
		}
		var ok bool
		switch k {
		case 's':
			var v textColumn
			if v, ok = col.(textColumn); ok && col.DataType().ID() != arrow.BINARY {
				for i := range n {
					b.str[c][i] = b.text(v.Value(i))
				}
			}
		case 'i':
			var v *array.Int64
			if v, ok = col.(*array.Int64); ok {
				copy(b.int[c], v.Int64Values())
			}
		case 'f':
			var v *array.Float64
			if v, ok = col.(*array.Float64); ok {
				copy(b.float[c], v.Float64Values())
			}
		case 'd':
			var v *array.Date32
			if v, ok = col.(*array.Date32); ok {
				for i, d := range v.Date32Values() {
					b.date[c][i] = time.Unix(int64(d)*86400, 0).UTC() // as Date32's ToTime, without AddDate's calendar
				}
			}
		}
		if !ok {
			return fmt.Errorf("query: column %d (%s) is %s, not of kind %q", c, rec.ColumnName(c), col.DataType(), k)
		}
	}
	return nil
}
