//go:build duckdb_arrow

package transform

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/duckdb/duckdb-go/v2"
)

// ArrowScan says how RegisterRecords hands record batches to DuckDB: true
// in a build with the duckdb_arrow tag, where DuckDB scans them through
// the Arrow C stream interface as they are sent.
const ArrowScan = true

// RegisterRecords makes recs the temporary view name on conn, for the
// statements that follow on conn (or a transaction of it) to read once.
// DuckDB pulls each batch from recs as its scan needs it, so the senders
// parse while DuckDB inserts. It takes over the caller's reference to
// recs. drop removes the view and releases recs; call it after the
// statement that reads the view.
func RegisterRecords(ctx context.Context, conn *sql.Conn, tmp, name string, recs array.RecordReader) (drop func(), err error) {
	defer recs.Release() // the exported stream holds its own reference
	var release func()
	err = conn.Raw(func(dc any) error {
		dconn, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("not a driver connection: %T", dc)
		}
		a, err := duckdb.NewArrowFromConn(dconn)
		if err != nil {
			return err
		}
		release, err = a.RegisterView(recs, name)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", name, err)
	}
	return func() {
		// The view would point at a released stream: it goes first.
		conn.ExecContext(context.WithoutCancel(ctx), `DROP VIEW IF EXISTS "`+name+`"`)
		release()
	}, nil
}
