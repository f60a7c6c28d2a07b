package transform

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat/schemas"
)

// Marts are the curated tables reports read and Export writes, each with a
// month column; their grain is written above each in schemas/sql/marts.sql.
var Marts = []string{
	"mart_library_month",
	"mart_county_month",
	"mart_county_month_current",
	"mart_national_month",
	"mart_unattributed",
	"mart_pool_allocation",
	"mart_per_1000",
	"mart_yoy",
	"mart_sources",
	"mart_title_month",
	"mart_source_comparison",
}

// Refresh brings agg_usage up to date for every month whose facts changed,
// then rebuilds the marts from it and the dimensions, and mart_title_month
// for the months whose titles can have changed, in one transaction, so a
// reader never sees half-built marts.
func (w *Warehouse) Refresh(ctx context.Context) error {
	ddl, err := schemas.SQL("marts.sql")
	if err != nil {
		return err
	}
	views, err := schemas.SQL("views.sql")
	if err != nil {
		return err
	}
	tx, err := w.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("refresh marts: %w", err)
	}
	defer tx.Rollback()
	if err := putPlatformChoices(ctx, tx, "source_preference", w.prefer); err != nil {
		return err
	}
	if err := putPlatformChoices(ctx, tx, "count_source", w.count); err != nil {
		return err
	}
	// agg_usage is kept per source: only the sources a load touched (and
	// the months marked whole) are summed again, so restating one
	// platform's month never rescans the other platforms' usage. Each
	// agg_usage row is of one unit_key, so deleting a dirty source's rows
	// and summing its facts anew is exact; dirty_cells keeps the (month,
	// platform) they covered before and after, for the titles.
	narrowWhere, looseWhere, err := dirtyFactsWhere(ctx, tx)
	if err != nil {
		return err
	}
	steps := []string{
		`CREATE OR REPLACE TEMP TABLE dirty_cells AS ` + dirtyCellsSQL,
		`DELETE FROM agg_usage WHERE ` + dirtyWhere,
		fmt.Sprintf(aggSQL, narrowWhere, looseWhere),
		`INSERT INTO dirty_cells ` + dirtyCellsSQL + ` EXCEPT SELECT month, platform FROM dirty_cells`,
	}
	steps = append(steps, statements(ddl)...)
	for _, q := range steps {
		if err := w.timed(ctx, tx, statementName(q), q); err != nil {
			return err
		}
	}
	// The titles read dirty_months too: it is emptied after them.
	if err := w.refreshTitles(ctx, tx); err != nil {
		return err
	}
	for _, q := range []string{`DELETE FROM dirty_months`, `DELETE FROM dirty_units`, views} {
		if err := w.timed(ctx, tx, statementName(q), q); err != nil {
			return err
		}
	}
	start := time.Now()
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("refresh marts: %w", err)
	}
	w.log.Debug("refresh step", "statement", "COMMIT", "took", time.Since(start))
	return nil
}

// dirtyWhere selects the rows of facts or agg_usage to sum again: those
// of a dirty source or of a month marked dirty whole. One predicate, so a
// row that is both is summed once.
const dirtyWhere = `(unit_key IN (SELECT unit_key FROM dirty_units) OR month IN (SELECT month FROM dirty_months))`

// dirtyMonthsSQL: the months the dirty rows of the facts are in (a
// unit's rows are of the unit's month: ingest splits uploads per unit).
const dirtyMonthsSQL = `SELECT month FROM loaded_units WHERE unit_key IN (SELECT unit_key FROM dirty_units)
UNION SELECT month FROM dirty_months ORDER BY month`

// aggSQL sums the facts of the rows selected by the two predicates (%[1]s
// over narrow.facts_rows, %[2]s over facts_loose) into agg_usage: the
// narrow rows first on numbers (unit, head) and their own columns, so the
// big aggregation neither joins nor hashes text per row, then the much
// smaller result with its unit and head once. The outer GROUP BY is the
// agg_usage grain, the same as summing the facts view: two heads that
// differ only in columns agg_usage leaves out (institution_name,
// source_key) or by a NULL against an empty id are one agg_usage row,
// and a loose row of the same keys adds to it rather than making a second.
const aggSQL = `INSERT INTO agg_usage
SELECT month, platform, release, report_id, metric_type, data_type, library_id,
       coalesce(institution_id, ''), coalesce(customer_id, ''), unit_key, sum(count)::BIGINT
FROM (
  SELECT f.month, h.platform, h.release, h.report_id, f.metric_type, f.data_type, h.library_id,
         h.institution_id, h.customer_id, u.unit_key, f.count
  FROM (SELECT unit_no, head_id, month, metric_type, coalesce(data_type, '') AS data_type, sum(count) AS count
        FROM narrow.facts_rows WHERE %[1]s GROUP BY ALL) f
  JOIN narrow.units u ON u.unit_no = f.unit_no
  JOIN narrow.heads h ON h.head_id = f.head_id
  UNION ALL
  SELECT month, platform, release, report_id, metric_type, coalesce(data_type, ''), library_id,
         institution_id, customer_id, unit_key, count
  FROM facts_loose WHERE %[2]s
)
GROUP BY ALL`

// dirtyUnitNos is dirtyWhere's source part for narrow.facts_rows, whose
// rows name their source by number.
const dirtyUnitNos = `unit_no IN (SELECT unit_no FROM narrow.units WHERE unit_key IN (SELECT unit_key FROM dirty_units))`

// dirtyFactsWhere is dirtyWhere for narrow.facts_rows and for
// facts_loose, first narrowed to the months of dirtyMonthsSQL written out
// as constants: DuckDB applies a constant filter in the scan, so it skips
// the other months' rows before it looks their source up (a subquery
// would be joined after the scan).
func dirtyFactsWhere(ctx context.Context, tx *sql.Tx) (narrow, loose string, err error) {
	// A rebuild's every source is dirty and nothing is summed yet: all
	// the facts are summed then, without looking each row's source up
	// (a third of the statement). With agg_usage empty no row can be
	// summed twice.
	var clean int
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM loaded_units WHERE unit_key NOT IN (SELECT unit_key FROM dirty_units))
		+ (SELECT count(*) FROM (SELECT 1 FROM agg_usage LIMIT 1))`).Scan(&clean); err != nil {
		return "", "", fmt.Errorf("refresh marts: dirty units: %w", err)
	}
	if clean == 0 {
		return "true", "true", nil
	}
	months, err := queryMonths(ctx, tx, dirtyMonthsSQL)
	if err != nil {
		return "", "", fmt.Errorf("refresh marts: dirty months: %w", err)
	}
	if len(months) == 0 {
		return "false", "false", nil
	}
	list := make([]string, len(months))
	for i, m := range months {
		list[i] = "DATE '" + m.Format(time.DateOnly) + "'"
	}
	in := "month IN (" + strings.Join(list, ", ") + ") AND "
	return in + "(" + dirtyUnitNos + " OR month IN (SELECT month FROM dirty_months))", in + dirtyWhere, nil
}

// dirtyCellsSQL: the (month, platform) of agg_usage's dirty rows; read
// before and after they are summed again, it gives the cells a source
// left and those it came to.
const dirtyCellsSQL = `SELECT DISTINCT month, platform FROM agg_usage WHERE ` + dirtyWhere

// statements splits a SQL file into its statements, each run and timed
// on its own. A statement ends with ";" at the end of a line; whole-line
// comments go first, as theirs may end so too.
func statements(file string) []string {
	var code []string
	for line := range strings.Lines(file) {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			code = append(code, line)
		}
	}
	var out []string
	for q := range strings.SplitSeq(strings.Join(code, ""), ";\n") {
		if strings.TrimSpace(q) != "" {
			out = append(out, q)
		}
	}
	return out
}

// statementName is a statement's first line, which names what it makes.
func statementName(q string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(q), "\n")
	return strings.TrimSuffix(strings.TrimSpace(line), " AS")
}

// ensureViews creates the views of schemas/sql/views.sql on a warehouse
// whose marts were built before a view existed, so its readers need not
// wait for the next refresh. A warehouse never refreshed has no marts for
// the views to read yet; its first Refresh creates them.
func (w *Warehouse) ensureViews(ctx context.Context) error {
	views, err := schemas.SQL("views.sql")
	if err != nil {
		return err
	}
	if _, err := w.DB.ExecContext(ctx, views); err != nil && !IsMissingTable(err) {
		return fmt.Errorf("create views: %w", err)
	}
	return nil
}
