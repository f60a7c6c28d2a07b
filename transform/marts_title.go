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

// titleCellsSQL: the chosen keys of one month's ($1) titled facts of the
// platforms to redo (title_todo), each
// with its cell (entity × platform × metric_type) and only the report
// that counts for the cell: per entity, platform, month and metric one
// title-carrying report (TR/JR/BR > IR), of those with titles. The cell is
// numbered so that the big aggregation groups on a number and the title,
// not on five strings. The distinct keys of the facts are few (a unit
// has one credential and a handful of ids and metrics).
const titleCellsSQL = `CREATE OR REPLACE TEMP TABLE title_cells AS
WITH keys AS (
  SELECT DISTINCT platform, library_id, institution_id, customer_id, unit_key, report_id, metric_type
  FROM facts WHERE month = $1 AND coalesce(title, '') <> ''
    AND platform IN (SELECT platform FROM title_todo WHERE month = $1)
),
counted AS (
  SELECT k.*, c.target_kind, c.target_id
  FROM keys k JOIN title_choice_now c USING (platform, library_id, institution_id, customer_id, unit_key, report_id)
  WHERE c.month = $1
),
best AS (
  SELECT target_kind, target_id, platform, metric_type,
         min({'pr': report_rank(report_id), 'report_id': report_id}).report_id AS report_id
  FROM counted GROUP BY ALL
)
SELECT counted.*, dense_rank() OVER (ORDER BY target_kind, target_id, platform, metric_type) AS cell
FROM counted SEMI JOIN best USING (target_kind, target_id, platform, metric_type, report_id)`

// titleMonthSQL: mart_title_month's rows of one month ($1): the titled
// facts of the keys of title_cells, summed per cell and title. One report
// counts per cell, so a title has one row per cell: the rows facts_chosen
// gives, by the rule read above each mart in schemas/sql/marts.sql.
// Pooled usage stays under its pool (target_kind 'pool'), never under the
// library that uploaded it.
// Grain: target × platform × title × metric_type × month.
const titleMonthSQL = `INSERT INTO mart_title_month
SELECT c.target_kind, c.target_id, c.platform, s.title, c.metric_type, $1::DATE AS month, s.count
FROM (
  SELECT k.cell, f.title, sum(f.count)::BIGINT AS count
  FROM facts f JOIN title_cells k USING (platform, library_id, institution_id, customer_id, unit_key, report_id, metric_type)
  WHERE f.month = $1 AND coalesce(f.title, '') <> ''
    AND f.platform IN (SELECT platform FROM title_todo WHERE month = $1)
  GROUP BY k.cell, f.title
) s
JOIN (SELECT DISTINCT cell, target_kind, target_id, platform, metric_type FROM title_cells) c USING (cell)`

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
	var have int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables()
		WHERE database_name = current_database() AND schema_name = 'main'
		  AND table_name IN ('mart_title_month', 'title_choice')`).Scan(&have); err != nil {
		return fmt.Errorf("refresh titles: %w", err)
	}
	todoSQL := titleTodoSQL
	if have < 2 {
		// A new warehouse, or one whose titles were built before
		// title_choice was kept: every month anew.
		todoSQL = titleTodoAllSQL
		if err := w.timed(ctx, tx, "CREATE TABLE mart_title_month", `CREATE OR REPLACE TABLE mart_title_month (
			target_kind VARCHAR, target_id VARCHAR, platform VARCHAR, title VARCHAR, metric_type VARCHAR, month DATE, count BIGINT)`); err != nil {
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
	for _, m := range months {
		start := time.Now()
		if _, err := tx.ExecContext(ctx, `DELETE FROM mart_title_month
			WHERE month = $1 AND platform IN (SELECT platform FROM title_todo WHERE month = $1)`, m); err != nil {
			return fmt.Errorf("refresh titles %s: %w", m.Format("2006-01"), err)
		}
		for _, q := range []string{titleCellsSQL, titleMonthSQL} {
			if _, err := tx.ExecContext(ctx, q, m); err != nil {
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
