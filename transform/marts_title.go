package transform

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// mart_title_month is the one mart read from the facts themselves (a row
// per title: as many as the facts at item level), so it is not rebuilt
// whole on every Refresh like the marts of schemas/sql/marts.sql. A
// month's titles are a function of the month's facts and of which of its
// facts count (the rule of choice and the attribution, over every month's
// sources). Both are known exactly, per month and platform: the facts
// changed in dirty_cells (marts.go), and which facts count is
// title_choice, one row per kind of fact that counts. Refresh rebuilds the
// titles of the (month, platform) in either, and of every one when the
// mart or title_choice does not exist yet.
//
// The mart is stored narrow, like the facts: narrow.title_rows holds
// numbers only (cell, title, month, count), narrow.title_cells and
// narrow.titles each cell (target × platform × metric_type) and each
// title once, numbered as first met and never deleted, and
// mart_title_month is the view that names them. Grouping and writing
// tens of millions of rows of numbers costs a fraction of doing it with
// their text.

// titlesSQL creates the narrow tables and the view the first time.
const titlesSQL = `CREATE TABLE narrow.titles (title_no INTEGER NOT NULL, title VARCHAR NOT NULL);
CREATE TABLE narrow.title_cells (cell_no INTEGER NOT NULL, target_kind VARCHAR, target_id VARCHAR, platform VARCHAR, metric_type VARCHAR);
CREATE TABLE narrow.title_rows (cell_no INTEGER NOT NULL, title_no INTEGER NOT NULL, month DATE NOT NULL, count BIGINT);
CREATE OR REPLACE VIEW mart_title_month AS
SELECT c.target_kind, c.target_id, c.platform, t.title, c.metric_type, r.month, r.count
FROM narrow.title_rows r JOIN narrow.title_cells c USING (cell_no) JOIN narrow.titles t USING (title_no)`

// newTitlesSQL numbers the titles of items and loose facts met for the
// first time, and item_title gives each titled item its title's number:
// the items are few beside the rows that name them.
const newTitlesSQL = `INSERT INTO narrow.titles
SELECT (SELECT coalesce(max(title_no), 0) FROM narrow.titles) + row_number() OVER (ORDER BY title), title
FROM (SELECT title FROM narrow.items WHERE title <> '' UNION SELECT title FROM facts_loose WHERE title <> ''
      EXCEPT SELECT title FROM narrow.titles);
CREATE OR REPLACE TEMP TABLE item_title AS
SELECT i.item_id, t.title_no FROM narrow.items i JOIN narrow.titles t USING (title)`

// titleChoiceSQL: title_choice as this refresh sees it: the keys of the
// facts rows that count after the rule of choice (one source and one
// release per cell), with their entity; the same rows facts_chosen joins
// (schemas/sql/marts.sql), named by the agg_usage keys they share. A facts
// row counts as (target_kind, target_id) exactly when its keys are here.
// Grain: month × platform × credential library × institution_id ×
// customer_id × source × report.
const titleChoiceSQL = `CREATE OR REPLACE TEMP TABLE title_choice_now AS
SELECT DISTINCT a.month, a.platform, a.library_id, a.institution_id, a.customer_id, a.unit_key, a.report_id,
       c.target_kind, c.target_id
FROM agg_usage a JOIN attribution t USING (platform, library_id, institution_id, customer_id)
JOIN source_choice c ON c.counted AND c.unit_key = a.unit_key AND c.platform = a.platform AND c.month = a.month
  AND c.report_id = a.report_id AND c.target_kind = t.target_kind AND c.target_id = t.target_id
  AND c.institution_id = CASE WHEN t.target_kind = 'unattributed' THEN a.institution_id ELSE '' END
  AND c.customer_id = CASE WHEN t.target_kind = 'unattributed' THEN a.customer_id ELSE '' END`

// titleTodoSQL: the (month, platform) whose titles can have changed:
// their facts did, or which of their facts count or for whom (either way
// round: a source set aside, a new one counted, a library remapped). A
// title row is of one platform, and which report counts for it is chosen
// within its platform, so the other platforms' rows of the month stay.
const titleTodoSQL = `CREATE OR REPLACE TEMP TABLE title_todo AS
SELECT month, platform FROM dirty_cells
UNION SELECT month, platform FROM (SELECT * FROM title_choice_now EXCEPT SELECT * FROM title_choice)
UNION SELECT month, platform FROM (SELECT * FROM title_choice EXCEPT SELECT * FROM title_choice_now)`

// titleTodoAllSQL: every (month, platform) that has titles to count.
const titleTodoAllSQL = `CREATE OR REPLACE TEMP TABLE title_todo AS SELECT DISTINCT month, platform FROM title_choice_now`

// titleDeleteSQL: the rows of one month ($1) of the platforms to redo.
const titleDeleteSQL = `DELETE FROM narrow.title_rows WHERE month = $1
  AND cell_no IN (SELECT cell_no FROM narrow.title_cells WHERE platform IN (SELECT platform FROM title_todo WHERE month = $1))`

// titleKeysSQL: the chosen keys of one month's ($1) titled facts of the
// platforms to redo (title_todo), each with its entity and only the
// report that counts for its cell: per entity, platform, month and
// metric one title-carrying report (TR/JR/BR > IR), of those with
// titles. A narrow key is a (unit, head, metric), so that the big
// aggregation joins the facts rows on numbers; a loose one is its text.
// The distinct keys of the facts are few (a unit has one credential and
// a handful of ids and metrics).
const titleKeysSQL = `CREATE OR REPLACE TEMP TABLE title_keys AS
WITH keys AS (
  SELECT h.platform, h.library_id, h.institution_id, h.customer_id, u.unit_key, h.report_id, k.metric_type, k.unit_no, k.head_id
  FROM (SELECT DISTINCT unit_no, head_id, metric_type FROM narrow.facts_rows SEMI JOIN item_title USING (item_id) WHERE month = $1) k
  JOIN narrow.units u ON u.unit_no = k.unit_no JOIN narrow.heads h ON h.head_id = k.head_id
  UNION ALL
  SELECT DISTINCT platform, library_id, institution_id, customer_id, unit_key, report_id, metric_type, NULL::INTEGER, NULL::INTEGER
  FROM facts_loose WHERE month = $1 AND coalesce(title, '') <> ''
),
counted AS (
  SELECT k.*, c.target_kind, c.target_id
  FROM keys k JOIN title_choice_now c USING (platform, library_id, institution_id, customer_id, unit_key, report_id)
  WHERE c.month = $1 AND k.platform IN (SELECT platform FROM title_todo WHERE month = $1)
),
best AS (
  SELECT target_kind, target_id, platform, metric_type,
         min({'pr': report_rank(report_id), 'report_id': report_id}).report_id AS report_id
  FROM counted GROUP BY ALL
)
SELECT counted.* FROM counted SEMI JOIN best USING (target_kind, target_id, platform, metric_type, report_id)`

// titleCellsSQL numbers the cells of title_keys met for the first time,
// and title_key_cells gives each key its cell's number.
const titleCellsSQL = `INSERT INTO narrow.title_cells
SELECT (SELECT coalesce(max(cell_no), 0) FROM narrow.title_cells)
         + row_number() OVER (ORDER BY target_kind, target_id, platform, metric_type), *
FROM (SELECT target_kind, target_id, platform, metric_type FROM title_keys
      EXCEPT SELECT target_kind, target_id, platform, metric_type FROM narrow.title_cells);
CREATE OR REPLACE TEMP TABLE title_key_cells AS
SELECT k.*, c.cell_no FROM title_keys k JOIN narrow.title_cells c
  ON c.target_kind IS NOT DISTINCT FROM k.target_kind AND c.target_id IS NOT DISTINCT FROM k.target_id
  AND c.platform IS NOT DISTINCT FROM k.platform AND c.metric_type IS NOT DISTINCT FROM k.metric_type`

// titleRowsSQL: mart_title_month's rows of one month ($1): the titled
// facts of the keys of title_key_cells, summed per cell and title. One
// report counts per cell, so a title has one row per cell: the rows
// facts_chosen gives, by the rule read above each mart in
// schemas/sql/marts.sql. Pooled usage stays under its pool (target_kind
// 'pool'), never under the library that uploaded it.
// Grain: target × platform × title × metric_type × month.
const titleRowsSQL = `INSERT INTO narrow.title_rows
SELECT cell_no, title_no, $1::DATE AS month, sum(count)::BIGINT AS count
FROM (
  SELECT k.cell_no, i.title_no, f.count
  FROM narrow.facts_rows f JOIN item_title i ON i.item_id = f.item_id
  JOIN title_key_cells k ON k.unit_no = f.unit_no AND k.head_id = f.head_id AND k.metric_type = f.metric_type
  WHERE f.month = $1
  UNION ALL
  SELECT k.cell_no, t.title_no, f.count
  FROM facts_loose f JOIN narrow.titles t USING (title)
  JOIN title_key_cells k USING (platform, library_id, institution_id, customer_id, unit_key, report_id, metric_type)
  WHERE f.month = $1 AND k.unit_no IS NULL
)
GROUP BY cell_no, title_no`

// refreshTitles brings mart_title_month and title_choice up to date
// within tx, after the marts of marts.sql (it reads attribution and
// source_choice) and dirty_cells, and before dirty_months and dirty_units
// are emptied. One month at a time,
// so that the aggregation of a 100M-row warehouse holds a month's titles
// in memory, never all of them.
func (w *Warehouse) refreshTitles(ctx context.Context, tx *sql.Tx) error {
	if err := w.timed(ctx, tx, "title_choice_now", titleChoiceSQL); err != nil {
		return err
	}
	// have counts the narrow title rows and title_choice; oldTable is
	// whether mart_title_month is still the table of a warehouse made
	// before the titles were kept narrow (DuckDB drops a table only as a
	// table, a view only as a view).
	var have, oldTable int
	if err := tx.QueryRowContext(ctx, `SELECT
		  count(*) FILTER (WHERE (schema_name, table_name) IN (('narrow', 'title_rows'), ('main', 'title_choice'))),
		  count(*) FILTER (WHERE schema_name = 'main' AND table_name = 'mart_title_month')
		FROM duckdb_tables() WHERE database_name = current_database()`).Scan(&have, &oldTable); err != nil {
		return fmt.Errorf("refresh titles: %w", err)
	}
	todoSQL := titleTodoSQL
	if have < 2 {
		// A new warehouse, or one whose titles were built before they
		// were kept narrow or title_choice was kept: every month anew.
		todoSQL = titleTodoAllSQL
		create := `DROP TABLE IF EXISTS narrow.title_rows; DROP TABLE IF EXISTS narrow.title_cells; DROP TABLE IF EXISTS narrow.titles;
			` + titlesSQL
		if oldTable > 0 {
			create = `DROP TABLE main.mart_title_month; ` + create
		}
		if err := w.timed(ctx, tx, "mart_title_month narrow", create); err != nil {
			return err
		}
	}
	if err := w.timed(ctx, tx, "title_todo", todoSQL); err != nil {
		return err
	}
	months, err := queryMonths(ctx, tx, `SELECT DISTINCT month FROM title_todo ORDER BY month`)
	if err != nil {
		return fmt.Errorf("refresh titles: %w", err)
	}
	// The titles are numbered only when some month is redone: a refresh
	// that changed no titles does not read every item.
	if len(months) > 0 {
		if err := w.timed(ctx, tx, "titles", newTitlesSQL); err != nil {
			return err
		}
	}
	for _, m := range months {
		start := time.Now()
		for _, s := range []struct {
			q    string
			args []any
		}{{titleDeleteSQL, []any{m}}, {titleKeysSQL, []any{m}}, {titleCellsSQL, nil}, {titleRowsSQL, []any{m}}} {
			if _, err := tx.ExecContext(ctx, s.q, s.args...); err != nil {
				return fmt.Errorf("refresh titles %s: %w", m.Format("2006-01"), err)
			}
		}
		w.log.Debug("refresh step", "statement", "mart_title_month", "month", m.Format("2006-01"), "took", time.Since(start))
	}
	return w.timed(ctx, tx, "title_choice", `CREATE OR REPLACE TABLE title_choice AS SELECT * FROM title_choice_now`)
}

func queryMonths(ctx context.Context, tx *sql.Tx, q string) ([]time.Time, error) {
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var m time.Time
		if err := rows.Scan(&m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// timed runs one statement of a refresh and logs how long it took: which
// statement a slow refresh spends its time in.
func (w *Warehouse) timed(ctx context.Context, tx *sql.Tx, name, q string) error {
	start := time.Now()
	if _, err := tx.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("refresh marts: %s: %w", name, err)
	}
	w.log.Debug("refresh step", "statement", name, "took", time.Since(start))
	return nil
}
