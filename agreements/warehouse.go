package agreements

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/reference"
	"github.com/bibliotek24/bibstat/transform"
)

// Warehouse reads usage and population from the DuckDB warehouse and keeps
// the registry there. It uses the warehouse's libraries, municipalities,
// library_county and mart_library_month with plain SQL and owns the
// agreements tables.
type Warehouse struct{ DB *sql.DB }

var _ Source = (*Warehouse)(nil)

// ddl creates the registry's tables, all derived from the imports kept in
// the store (Restore). agreements and agreement_participants hold the
// current registry; agreement_history is append-only: one row per import
// that created, changed or removed an agreement, with the spec after the
// change (before it, for a removal); agreement_imports one row per stored
// import applied.
const ddl = `
CREATE TABLE IF NOT EXISTS agreements (
  agreement_id   VARCHAR PRIMARY KEY,
  name           VARCHAR NOT NULL,
  vendor         VARCHAR NOT NULL,
  platforms      VARCHAR NOT NULL, -- comma-separated
  data_type      VARCHAR NOT NULL,
  use_metrics    VARCHAR NOT NULL, -- comma-separated, the effective ones
  period_from    DATE NOT NULL,
  period_to      DATE NOT NULL,
  price_nok      DECIMAL(18,4) NOT NULL,
  vat_included   BOOLEAN NOT NULL,
  vat_rate       DECIMAL(9,6) NOT NULL,
  price_incl_vat DECIMAL(18,4) NOT NULL,
  model          VARCHAR NOT NULL,
  base_share     DECIMAL(9,6),
  spec           VARCHAR NOT NULL, -- the agreement as written, JSON
  source         VARCHAR NOT NULL,
  imported_at    TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS agreement_participants (
  agreement_id VARCHAR NOT NULL,
  position     INTEGER NOT NULL,
  library_id   VARCHAR,
  county       VARCHAR,
  joined       DATE NOT NULL,
  left_month   DATE NOT NULL -- the last month taking part
);
CREATE TABLE IF NOT EXISTS agreement_history (
  agreement_id VARCHAR NOT NULL,
  changed_at   TIMESTAMP NOT NULL,
  change       VARCHAR NOT NULL, -- created | changed | removed
  summary      VARCHAR NOT NULL,
  source       VARCHAR NOT NULL,
  spec         VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS agreement_imports (
  import_key  VARCHAR PRIMARY KEY, -- the YAML's key in the store
  imported_at TIMESTAMP NOT NULL,
  imported_by VARCHAR NOT NULL,
  sha256      VARCHAR NOT NULL,
  file        VARCHAR NOT NULL,
  agreements  INTEGER NOT NULL,
  added       INTEGER NOT NULL,
  changed     INTEGER NOT NULL,
  removed     INTEGER NOT NULL
);`

func insert(ctx context.Context, tx *sql.Tx, a Agreement, spec []byte, source string, now time.Time) error {
	var base any
	if a.BaseShare != nil {
		base = a.BaseShare.FloatString(6)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO agreements VALUES (?, ?, ?, ?, ?, ?, ?, ?,
		CAST(? AS DECIMAL(18,4)), ?, CAST(? AS DECIMAL(9,6)), CAST(? AS DECIMAL(18,4)), ?, CAST(? AS DECIMAL(9,6)), ?, ?, ?)`,
		a.ID, a.Name, a.Vendor, strings.Join(a.Platforms, ","), string(a.DataType), strings.Join(a.Metrics(), ","),
		a.From.First(), a.To.First(), a.Price.FloatString(4), a.VATIncluded, a.VATRate.FloatString(6),
		a.PriceInclVAT().FloatString(4), string(a.Model), base, string(spec), source, now)
	if err != nil {
		return fmt.Errorf("import agreement %s: %w", a.ID, err)
	}
	for i, p := range a.Participants {
		var lib, county any
		if p.Library != "" {
			lib = string(p.Library)
		} else {
			county = p.County
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO agreement_participants VALUES (?, ?, ?, ?, ?, ?)`,
			a.ID, i, lib, county, p.Joined.First(), p.Left.First()); err != nil {
			return fmt.Errorf("import agreement %s: participant %s: %w", a.ID, p.Key(), err)
		}
	}
	return nil
}

func deleteAgreement(ctx context.Context, tx *sql.Tx, id string) error {
	for _, q := range []string{`DELETE FROM agreement_participants WHERE agreement_id = ?`, `DELETE FROM agreements WHERE agreement_id = ?`} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return fmt.Errorf("replace agreement %s: %w", id, err)
		}
	}
	return nil
}

// diff summarises what changed from a to b, one phrase per field.
func diff(a, b Agreement) []string {
	var out []string
	field := func(name, x, y string) {
		if x != y {
			out = append(out, fmt.Sprintf("%s %s → %s", name, orNone(x), orNone(y)))
		}
	}
	x, y := a.spec, b.spec
	field("name", x.Name, y.Name)
	field("vendor", x.Vendor, y.Vendor)
	field("platforms", strings.Join(x.Platforms, ","), strings.Join(y.Platforms, ","))
	field("data_type", x.DataType, y.DataType)
	field("use_metrics", strings.Join(a.Metrics(), ","), strings.Join(b.Metrics(), ","))
	field("period", x.Period.From+"–"+x.Period.To, y.Period.From+"–"+y.Period.To)
	if a.Price.Cmp(b.Price) != 0 {
		field("price_nok", ratNOK(a.Price), ratNOK(b.Price))
	}
	field("vat_included", fmt.Sprint(a.VATIncluded), fmt.Sprint(b.VATIncluded))
	if a.VATRate.Cmp(b.VATRate) != 0 {
		field("vat_rate", ratShort(a.VATRate), ratShort(b.VATRate))
	}
	field("allocation", allocationText(a), allocationText(b))
	field("note", x.Note, y.Note)
	before, after := participantSet(a), participantSet(b)
	for _, p := range after {
		if !slices.Contains(before, p) {
			out = append(out, "+"+p)
		}
	}
	for _, p := range before {
		if !slices.Contains(after, p) {
			out = append(out, "-"+p)
		}
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func allocationText(a Agreement) string {
	if a.BaseShare != nil {
		return fmt.Sprintf("%s base_share %s", a.Model, ratShort(a.BaseShare))
	}
	return string(a.Model)
}

func participantSet(a Agreement) []string {
	var out []string
	for _, p := range a.Participants {
		out = append(out, fmt.Sprintf("%s %s–%s", p.Key(), p.Joined, p.Left))
	}
	return out
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// List returns the registry's agreements, by id.
func (w *Warehouse) List(ctx context.Context) ([]Agreement, error) {
	if _, err := w.DB.ExecContext(ctx, ddl); err != nil {
		return nil, fmt.Errorf("list agreements: %w", err)
	}
	as, err := list(ctx, w.DB)
	if err != nil {
		return nil, fmt.Errorf("list agreements: %w", err)
	}
	return as, nil
}

// ErrNotFound: no agreement with that id in the warehouse.
var ErrNotFound = errors.New("no such agreement")

// Get returns one agreement.
func (w *Warehouse) Get(ctx context.Context, id string) (Agreement, error) {
	as, err := w.List(ctx)
	if err != nil {
		return Agreement{}, err
	}
	for _, a := range as {
		if a.ID == id {
			return a, nil
		}
	}
	return Agreement{}, fmt.Errorf("agreement %q: %w; run 'bibstat agreements list'", id, ErrNotFound)
}

// HistoryRow is one change to an agreement.
type HistoryRow struct {
	At      time.Time
	Change  string
	Summary string
	Source  string
}

// History returns the changes to agreement id, oldest first.
func (w *Warehouse) History(ctx context.Context, id string) ([]HistoryRow, error) {
	rows, err := w.DB.QueryContext(ctx, `SELECT changed_at, change, summary, source FROM agreement_history WHERE agreement_id = ? ORDER BY changed_at, rowid`, id)
	if err != nil {
		return nil, fmt.Errorf("agreement history %s: %w", id, err)
	}
	defer rows.Close()
	var out []HistoryRow
	for rows.Next() {
		var h HistoryRow
		if err := rows.Scan(&h.At, &h.Change, &h.Summary, &h.Source); err != nil {
			return nil, fmt.Errorf("agreement history %s: %w", id, err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// list reads every agreement back from its stored spec, so that the
// warehouse's registry is exactly what was imported.
func list(ctx context.Context, q querier) ([]Agreement, error) {
	rows, err := q.QueryContext(ctx, `SELECT agreement_id, spec FROM agreements ORDER BY agreement_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Agreement
	for rows.Next() {
		var id, spec string
		if err := rows.Scan(&id, &spec); err != nil {
			return nil, err
		}
		a, err := fromSpec(id, spec)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Libraries implements Source.
func (w *Warehouse) Libraries(ctx context.Context) ([]Library, error) {
	// A library's county is the warehouse's one county of it
	// (library_county), as the report and the portal's access check place
	// it. A warehouse without the view (older, or never refreshed: no
	// marts either) has only its municipality's.
	rows, err := w.DB.QueryContext(ctx, `
		SELECT l.library_id, l.name, l.municipality, coalesce(c.county, '')
		FROM libraries l LEFT JOIN library_county c USING (library_id)
		ORDER BY l.library_id`)
	if transform.IsMissingTable(err) {
		rows, err = w.DB.QueryContext(ctx, `
			SELECT l.library_id, l.name, l.municipality, coalesce(m.county, '')
			FROM libraries l LEFT JOIN municipalities m ON m.municipality = l.municipality
			ORDER BY l.library_id`)
	}
	if err != nil {
		return nil, fmt.Errorf("read libraries: %w", err)
	}
	defer rows.Close()
	var out []Library
	for rows.Next() {
		var l Library
		var id string
		if err := rows.Scan(&id, &l.Name, &l.Municipality, &l.County); err != nil {
			return nil, fmt.Errorf("read libraries: %w", err)
		}
		l.ID = bibstat.LibraryID(id)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read libraries: %w", err)
	}
	// Inhabitants are the marts' library_population, the one definition
	// of what a library serves; without it (no marts yet) none are known.
	pops, err := w.byYear(ctx, `SELECT library_id, year, population FROM library_population`)
	if err != nil {
		return nil, fmt.Errorf("read library population: %w", err)
	}
	for i := range out {
		out[i].Population = pops[string(out[i].ID)]
	}
	return out, nil
}

// Counties implements Source.
func (w *Warehouse) Counties(ctx context.Context) (map[string]County, error) {
	rows, err := w.DB.QueryContext(ctx, `SELECT county, any_value(county_name) FROM municipalities GROUP BY county`)
	if err != nil {
		return nil, fmt.Errorf("read counties: %w", err)
	}
	defer rows.Close()
	out := map[string]County{}
	for rows.Next() {
		var number string
		var c County
		if err := rows.Scan(&number, &c.Name); err != nil {
			return nil, fmt.Errorf("read counties: %w", err)
		}
		out[number] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read counties: %w", err)
	}
	// The same inhabitants as mart_per_1000's counties.
	pops, err := w.byYear(ctx, `SELECT m.county, py.year, sum(py.population)
		FROM population_by_year py JOIN municipalities m USING (municipality) GROUP BY ALL`)
	if err != nil {
		return nil, fmt.Errorf("read county population: %w", err)
	}
	for number, c := range out {
		c.Population = pops[number]
		out[number] = c
	}
	return out, nil
}

// byYear reads (key, year, population) rows; a warehouse without the
// table has none.
func (w *Warehouse) byYear(ctx context.Context, q string) (map[string]map[int]int64, error) {
	rows, err := w.DB.QueryContext(ctx, `SELECT k, CAST(y AS BIGINT), CAST(p AS BIGINT) FROM (`+q+`) t(k, y, p) WHERE p IS NOT NULL`)
	if transform.IsMissingTable(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]map[int]int64{}
	for rows.Next() {
		var k string
		var y, n int64
		if err := rows.Scan(&k, &y, &n); err != nil {
			return nil, err
		}
		if out[k] == nil {
			out[k] = map[int]int64{}
		}
		out[k][int(y)] = n
	}
	return out, rows.Err()
}

// Uses implements Source: the library's own usage (count) and its share of
// pools (pooled) in mart_library_month, the figures its page adds up.
func (w *Warehouse) Uses(ctx context.Context, platforms, metrics []string, first, last bibstat.Month) ([]Use, error) {
	if len(platforms) == 0 || len(metrics) == 0 {
		return nil, nil
	}
	args := []any{}
	for _, p := range platforms {
		args = append(args, p)
	}
	for _, m := range metrics {
		args = append(args, m)
	}
	args = append(args, first.First(), last.First())
	// pooled is a DOUBLE rounded to 6 decimals: read as that decimal text,
	// it is the exact fraction the mart holds.
	rows, err := w.DB.QueryContext(ctx, `
		SELECT library_id, CAST(year(month) AS BIGINT), CAST(month(month) AS BIGINT), CAST(sum(count) AS BIGINT),
		       CAST(CAST(round(sum(pooled), 6) AS DECIMAL(38, 6)) AS VARCHAR)
		FROM mart_library_month
		WHERE platform IN (`+placeholders(len(platforms))+`) AND metric_type IN (`+placeholders(len(metrics))+`)
		  AND month >= ? AND month <= ?
		GROUP BY ALL ORDER BY ALL`, args...)
	if err != nil {
		return nil, fmt.Errorf("read uses: %w", err)
	}
	defer rows.Close()
	var out []Use
	for rows.Next() {
		var id, pooled string
		var y, m, n int64
		if err := rows.Scan(&id, &y, &m, &n, &pooled); err != nil {
			return nil, fmt.Errorf("read uses: %w", err)
		}
		u := Use{Library: bibstat.LibraryID(id), Month: bibstat.Month{Year: int(y), Mon: time.Month(m)}, Count: n}
		if u.Pooled, err = parseDecimal(pooled); err != nil {
			return nil, fmt.Errorf("read uses: %s %s pooled: %w", id, u.Month, err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// Known reads what exists from the warehouse: its libraries, the platforms
// it has loaded usage for (and those of a platforms table, if the warehouse
// has one), and the counties of the reference data with the former 30, 38
// and 54.
func (w *Warehouse) Known(ctx context.Context) (Known, error) {
	k := Known{Platforms: map[string]bool{}, Libraries: map[bibstat.LibraryID]bool{}, Municipalities: map[bibstat.LibraryID]string{}}
	libs, err := w.Libraries(ctx)
	if err != nil {
		return k, err
	}
	for _, l := range libs {
		k.Libraries[l.ID] = true
		k.Municipalities[l.ID] = l.Municipality
	}
	plats, err := strings1(ctx, w.DB, `SELECT DISTINCT platform FROM loaded_units`)
	if err != nil {
		return k, fmt.Errorf("read platforms: %w", err)
	}
	// A platforms table is optional: older warehouses know platforms only by their usage.
	if more, err := strings1(ctx, w.DB, `SELECT DISTINCT platform FROM platforms`); err == nil {
		plats = append(plats, more...)
	}
	for _, p := range plats {
		k.Platforms[p] = true
	}
	k.Counties, err = KnownCounties()
	return k, err
}

func strings1(ctx context.Context, db *sql.DB, q string) ([]string, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// KnownCounties returns the counties of the 2024 structure (reference data)
// and the former counties 30, 38 and 54.
func KnownCounties() (map[string]bool, error) {
	munis, err := reference.Municipalities()
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, m := range munis {
		out[m.County] = true
	}
	for c := range formerCounties {
		out[c] = true
	}
	return out, nil
}
