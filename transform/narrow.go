package transform

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
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
// facts_rows, adding the heads and items not stored yet. It returns the
// rows stored, and an error if that is not every row of rel: a row the
// joins missed would be usage lost, one joined twice usage doubled.
//
// rel is read twice: once for the chunk's distinct heads and items with
// their 64-bit keys (keyHash) and row count, once to store its rows
// joined to heads and items by key alone, a join of one integer where
// one of every column (27 for an item) cost most of the load. A key
// names its head or item only when no two different ones share it: the
// chunk's heads and items are checked against each other and against
// those stored with the same key, and a chunk with a collision is
// stored by the join on every column instead (storeRows).
func insertNarrow(ctx context.Context, tx *sql.Tx, rel string) (int64, error) {
	heads, items := schemas.FactsHeadColumns, schemas.FactsItemColumns()
	defer tx.ExecContext(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS chunk_keys`)
	// One grouping set of the heads' columns, one of the items': a head
	// row has grouping() 1 for an item column, which it is not grouped by.
	if _, err := tx.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE chunk_keys AS
		SELECT grouping(`+items[0]+`) = 1 AS is_head, `+keyHash("", heads)+` AS head_hash, `+keyHash("", items)+` AS item_hash,
		  `+strings.Join(heads, ", ")+`, `+strings.Join(items, ", ")+`, count(*) AS n
		FROM `+rel+` GROUP BY GROUPING SETS ((`+strings.Join(heads, ", ")+`), (`+strings.Join(items, ", ")+`))`); err != nil {
		return 0, fmt.Errorf("load: insert facts: keys: %w", err)
	}
	var collisions, want int64
	if err := tx.QueryRowContext(ctx, `SELECT `+collisionCount("narrow.heads", "head_hash", true, heads)+` + `+
		collisionCount("narrow.items", "item_hash", false, items)+`,
		(SELECT coalesce(sum(n), 0) FROM chunk_keys WHERE NOT is_head)`).Scan(&collisions, &want); err != nil {
		return 0, fmt.Errorf("load: insert facts: keys: %w", err)
	}
	n, err := storeRows(ctx, tx, rel, collisions == 0)
	if err != nil {
		return 0, err
	}
	if n != want {
		return 0, fmt.Errorf("load: insert facts: stored %d rows of %d", n, want)
	}
	return n, nil
}

// collisionCount is the SQL count of the chunk's heads (head) or items,
// stored in table with their key column hash, whose key is another one's
// too, of the chunk or of table. Zero means each key of the chunk names
// one head (item) at most, in the chunk and in table alike.
func collisionCount(table, hash string, head bool, columns []string) string {
	is := "is_head = " + strconv.FormatBool(head)
	return `(SELECT count(*) - count(DISTINCT ` + hash + `) FROM chunk_keys WHERE ` + is + `)
		+ (SELECT count(*) FROM chunk_keys c JOIN ` + table + ` t ON t.` + hash + ` = c.` + hash + `
		   WHERE c.` + is + ` AND NOT (` + same("t", "c", columns) + `))`
}

// storeRows stores rel's rows, adding the heads and items not stored
// yet: by their keys when no key of chunk_keys collides (byKey), so that
// a row's keys name its head and item; else by their every column, NULL
// equal to NULL only, whatever their keys.
func storeRows(ctx context.Context, tx *sql.Tx, rel string, byKey bool) (int64, error) {
	heads, items := schemas.FactsHeadColumns, schemas.FactsItemColumns()
	addHeads, addItems := addDistinct("narrow.heads", "head_id", heads, rel), addDistinct("narrow.items", "item_id", items, rel)
	headJoin, itemJoin := same("h", "s", heads), same("i", "s", items)
	if byKey {
		addHeads, addItems = addByKey("narrow.heads", "head_id", "head_hash", true, heads), addByKey("narrow.items", "item_id", "item_hash", false, items)
		headJoin, itemJoin = "h.head_hash = "+keyHash("s", heads), "i.item_hash = "+keyHash("s", items)
	}
	var n int64
	for _, q := range []string{
		addHeads,
		addItems,
		`INSERT INTO narrow.facts_rows SELECT u.unit_no, h.head_id, i.item_id, ` + cols("s", schemas.FactsRowColumns) + `
		FROM ` + rel + ` s JOIN narrow.units u ON u.unit_key = s.unit_key
		  JOIN narrow.heads h ON ` + headJoin + `
		  JOIN narrow.items i ON ` + itemJoin,
	} {
		res, err := tx.ExecContext(ctx, q)
		if err != nil {
			return 0, fmt.Errorf("load: insert facts: %w", err)
		}
		n, _ = res.RowsAffected()
	}
	return n, nil
}

// addByKey is the statement that adds to table the heads (items) of
// chunk_keys whose key it does not have, numbered on from its highest id.
func addByKey(table, id, hash string, head bool, columns []string) string {
	return `INSERT INTO ` + table + ` SELECT (SELECT coalesce(max(` + id + `), 0) FROM ` + table + `) + row_number() OVER (), ` +
		hash + `, ` + strings.Join(columns, ", ") + `
		FROM chunk_keys WHERE is_head = ` + strconv.FormatBool(head) + ` AND ` + hash + ` NOT IN (SELECT ` + hash + ` FROM ` + table + `)`
}

// addDistinct is the statement that adds to table (heads or items) the
// distinct values of columns in rel it does not have yet, with their
// keys, numbered on from its highest id. EXCEPT compares NULL equal to
// NULL and to nothing else, as storeRows' joins on every column do.
func addDistinct(table, id string, columns []string, rel string) string {
	list := strings.Join(columns, ", ")
	return `INSERT INTO ` + table + ` SELECT (SELECT coalesce(max(` + id + `), 0) FROM ` + table + `) + row_number() OVER (), ` + keyHash("", columns) + `, *
		FROM (SELECT ` + list + ` FROM ` + rel + ` EXCEPT SELECT ` + list + ` FROM ` + table + `)`
}

// keyHash is the SQL of a head's or item's key: DuckDB's 64-bit hash of
// its columns (of alias a, or bare if a is ""). Two different heads or
// items may share one; insertNarrow checks. A variable so that a test can
// make keys collide.
var keyHash = func(a string, columns []string) string {
	if a == "" {
		return "hash(" + strings.Join(columns, ", ") + ")"
	}
	return "hash(" + cols(a, columns) + ")"
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
