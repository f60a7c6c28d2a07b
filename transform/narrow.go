package transform

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/bibliotek24/bibstat/schemas"
)

// The facts are stored narrow (warehouse.sql, facts_rows): a row's head
// and item once each in heads and items, the row a few numbers and the
// columns of its own. Both ways in, the rows parsed in Go and the stored
// copies read by read_parquet, go through insertNarrow, so the same head
// or item gets the same number whichever way its rows came.

// putUnits numbers the sources of load_map that have no number yet.
func putUnits(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO narrow.units
		SELECT (SELECT coalesce(max(unit_no), 0) FROM narrow.units) + row_number() OVER (ORDER BY unit_key), unit_key
		FROM (SELECT DISTINCT unit_key FROM load_map WHERE unit_key NOT IN (SELECT unit_key FROM narrow.units))`)
	if err != nil {
		return fmt.Errorf("load: number units: %w", err)
	}
	return nil
}

// deleteFacts deletes the facts of load_map's sources, by their numbers
// (and those of facts_loose, written by hand).
func deleteFacts(ctx context.Context, tx *sql.Tx) error {
	for _, q := range []string{
		`DELETE FROM narrow.facts_rows WHERE unit_no IN (SELECT unit_no FROM narrow.units WHERE unit_key IN (SELECT unit_key FROM load_map))`,
		`DELETE FROM facts_loose WHERE unit_key IN (SELECT unit_key FROM load_map)`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("load: supersede: %w", err)
		}
	}
	return nil
}

// insertNarrow stores every row of rel, a relation of the facts columns
// (schemas.FactsColumns) whose sources putUnits has numbered, in
// facts_rows, adding the heads and items not stored yet. rel is read
// three times. It returns the rows stored, and an error if that is not
// every row of rel: a row the joins missed would be usage lost.
func insertNarrow(ctx context.Context, tx *sql.Tx, rel string) (int64, error) {
	heads, items := schemas.FactsHeadColumns, schemas.FactsItemColumns()
	var n int64
	for _, q := range []string{
		addDistinct("narrow.heads", "head_id", heads, rel),
		addDistinct("narrow.items", "item_id", items, rel),
		`INSERT INTO narrow.facts_rows SELECT u.unit_no, h.head_id, i.item_id, ` + cols("s", schemas.FactsRowColumns) + `
		FROM ` + rel + ` s JOIN narrow.units u ON u.unit_key = s.unit_key
		  JOIN narrow.heads h ON ` + same("h", "s", heads) + `
		  JOIN narrow.items i ON ` + same("i", "s", items),
	} {
		res, err := tx.ExecContext(ctx, q)
		if err != nil {
			return 0, fmt.Errorf("load: insert facts: %w", err)
		}
		n, _ = res.RowsAffected()
	}
	var want int64
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+rel).Scan(&want); err != nil {
		return 0, fmt.Errorf("load: insert facts: %w", err)
	}
	if n != want {
		return 0, fmt.Errorf("load: insert facts: stored %d rows of %d", n, want)
	}
	return n, nil
}

// addDistinct is the statement that adds to table (heads or items) the
// distinct values of columns in rel it does not have yet, numbered on
// from its highest id. EXCEPT compares NULL equal to NULL and to nothing
// else, as the joins of insertNarrow do.
func addDistinct(table, id string, columns []string, rel string) string {
	list := strings.Join(columns, ", ")
	return `INSERT INTO ` + table + ` SELECT (SELECT coalesce(max(` + id + `), 0) FROM ` + table + `) + row_number() OVER (), *
		FROM (SELECT ` + list + ` FROM ` + rel + ` EXCEPT SELECT ` + list + ` FROM ` + table + `)`
}

// cols is columns, each of alias a.
func cols(a string, columns []string) string {
	out := make([]string, len(columns))
	for i, c := range columns {
		out[i] = a + "." + c
	}
	return strings.Join(out, ", ")
}

// same is the join condition of a and b equal in every column, NULL
// equal to NULL.
func same(a, b string, columns []string) string {
	out := make([]string, len(columns))
	for i, c := range columns {
		out[i] = a + "." + c + " IS NOT DISTINCT FROM " + b + "." + c
	}
	return strings.Join(out, " AND ")
}
