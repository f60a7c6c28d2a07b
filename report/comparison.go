package report

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The comparison: for a platform that has both, the vendor's COUNTER figure
// beside the one measured from the consortium's own logins (access logs),
// per library, month and metric, as mart_source_comparison holds them. The
// two are never added: one counts (counted_source), the other is shown so
// that the consortium sees when a vendor's figures drift. Nothing in the
// mart is finer than a library's month: no pseudonym, no user.
//
// A side without data for a month is NULL in the mart and "no data" on the
// page, never 0. A sum over libraries (the nation, a county) adds only the
// libraries that have both figures in the month, and says how many of how
// many: a sum of one side's libraries beside the other's would compare
// different libraries.

// Counted sources, as mart_source_comparison names them.
const (
	CountedCounter   = "counter"
	CountedAccessLog = "access-log"
)

// driftPercent is how far, in percent of the login-measured figure, the
// two may differ before a month is said to drift.
const driftPercent = 10

// ComparisonRow is one library's month of a platform's metric from both
// sources, or (Library "") their sum over libraries.
type ComparisonRow struct {
	Library, Platform, Metric string
	Month                     time.Time
	// Vendor and Login are NULL when that source has no data for the
	// month; Difference is Vendor − Login, NULL unless both are there.
	Vendor, Login, Difference sql.NullInt64
	Counted                   string // CountedCounter or CountedAccessLog
	// Libraries and Both are, for a sum, how many libraries have a row in
	// the month and how many of them have both figures (the ones summed).
	Libraries, Both int
}

// both: the row has a figure from each source.
func (r ComparisonRow) both() bool { return r.Vendor.Valid && r.Login.Valid && r.Difference.Valid }

// Percent is the difference in percent of the login-measured figure; ok
// is false without both figures, or when logins measured 0 and the vendor
// did not.
func (r ComparisonRow) Percent() (float64, bool) {
	switch {
	case !r.both():
		return 0, false
	case r.Login.Int64 == 0:
		return 0, r.Difference.Int64 == 0
	}
	return float64(r.Difference.Int64) * 100 / float64(r.Login.Int64), true
}

// Drifts: the two figures differ by more than driftPercent of the
// login-measured one (any difference, when logins measured 0).
func (r ComparisonRow) Drifts() bool {
	if !r.both() {
		return false
	}
	d := r.Difference.Int64
	if d < 0 {
		d = -d
	}
	return float64(d)*100 > float64(driftPercent)*float64(r.Login.Int64)
}

// comparisonMart is the mart the comparison is read from.
const comparisonMart = "mart_source_comparison"

// comparisonQuery reads the whole mart, ordered as the pages show it.
const comparisonQuery = `SELECT library_id, platform, month, metric_type, vendor_count, login_count, difference, counted_source
	FROM mart_source_comparison ORDER BY platform, library_id, metric_type, month`

// hasComparison: the warehouse has the mart; one made before it has
// none, and then there is simply no comparison.
func hasComparison(ctx context.Context, db *sql.DB) (bool, error) {
	ok, err := hasRelation(ctx, db, comparisonMart)
	if err != nil {
		return false, fmt.Errorf("report comparison: %w", err)
	}
	return ok, nil
}

// hasRelation: the warehouse has a table or a view named name.
func hasRelation(ctx context.Context, db *sql.DB, name string) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_name = ?`, name).Scan(&n)
	return n > 0, err
}

// comparisonData is the whole comparison as the pages read it, per
// platform: its rows per library, and their sums over libraries.
type comparisonData struct {
	byLibrary map[string]map[string][]ComparisonRow // platform → library → rows
	sums      map[string][]ComparisonRow            // platform → sums per metric and month
	rows      map[string][]ComparisonRow            // platform → every library's rows, for downloads
}

// prefetchComparison reads the whole comparison in one query; a warehouse
// without the mart has none.
func (s *Site) prefetchComparison(ctx context.Context) error {
	s.comparison = comparisonData{}
	ok, err := hasComparison(ctx, s.DB)
	if err != nil || !ok {
		return err
	}
	rows, err := s.DB.QueryContext(ctx, comparisonQuery)
	if err != nil {
		return fmt.Errorf("report comparison: %w", err)
	}
	got, err := scanComparison(rows)
	if err != nil {
		return fmt.Errorf("report comparison: %w", err)
	}
	s.comparison = groupComparison(got)
	return nil
}

// groupComparison groups the mart's rows per platform and library, and
// sums each platform's once for the pages that show the nation.
func groupComparison(got []ComparisonRow) comparisonData {
	d := comparisonData{byLibrary: map[string]map[string][]ComparisonRow{}, sums: map[string][]ComparisonRow{},
		rows: map[string][]ComparisonRow{}}
	for _, r := range got {
		d.rows[r.Platform] = append(d.rows[r.Platform], r)
		if d.byLibrary[r.Platform] == nil {
			d.byLibrary[r.Platform] = map[string][]ComparisonRow{}
		}
		d.byLibrary[r.Platform][r.Library] = append(d.byLibrary[r.Platform][r.Library], r)
	}
	for p, rows := range d.rows {
		d.sums[p] = SumComparison(rows)
	}
	return d
}

// ScanComparison reads rows of (library_id, platform, month, metric_type,
// vendor_count, login_count, difference, counted_source) and closes them.
func ScanComparison(rows *sql.Rows) ([]ComparisonRow, error) { return scanComparison(rows) }

func scanComparison(rows *sql.Rows) ([]ComparisonRow, error) {
	defer rows.Close()
	var out []ComparisonRow
	for rows.Next() {
		var r ComparisonRow
		var counted sql.NullString
		if err := rows.Scan(&r.Library, &r.Platform, &r.Month, &r.Metric, &r.Vendor, &r.Login, &r.Difference, &counted); err != nil {
			return nil, err
		}
		r.Counted, r.Libraries = counted.String, 1
		if r.both() {
			r.Both = 1
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SumComparison adds rows up per platform, metric and month over their
// libraries, only the libraries with both figures in the month: a month
// where none has both has no figures. Counted is the month's counted
// source when its libraries agree on it, else "".
func SumComparison(rows []ComparisonRow) []ComparisonRow {
	type key struct {
		platform, metric string
		month            time.Time
	}
	sums := map[key]*ComparisonRow{}
	for _, r := range rows {
		k := key{r.Platform, r.Metric, r.Month}
		s := sums[k]
		if s == nil {
			s = &ComparisonRow{Platform: r.Platform, Metric: r.Metric, Month: r.Month, Counted: r.Counted}
			sums[k] = s
		}
		s.Libraries++
		if s.Counted != r.Counted {
			s.Counted = ""
		}
		if !r.both() {
			continue
		}
		s.Both++
		for _, f := range []struct{ sum, add *sql.NullInt64 }{{&s.Vendor, &r.Vendor}, {&s.Login, &r.Login}, {&s.Difference, &r.Difference}} {
			f.sum.Int64 += f.add.Int64
			f.sum.Valid = true
		}
	}
	out := make([]ComparisonRow, 0, len(sums))
	for _, s := range sums {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b ComparisonRow) int {
		return cmp.Or(cmp.Compare(a.Platform, b.Platform), compareMetrics(a.Metric, b.Metric), a.Month.Compare(b.Month))
	})
	return out
}

// compareMetrics orders metrics as the glossary does, the others (R4's) after, by name.
func compareMetrics(a, b string) int {
	ia, ib := slices.Index(glossaryMetrics, a), slices.Index(glossaryMetrics, b)
	if ia < 0 {
		ia = len(glossaryMetrics)
	}
	if ib < 0 {
		ib = len(glossaryMetrics)
	}
	return cmp.Or(cmp.Compare(ia, ib), cmp.Compare(a, b))
}

// comparisonMetrics are the metrics rows hold, in the glossary's order.
func comparisonMetrics(rows []ComparisonRow) []string {
	set := map[string]bool{}
	for _, r := range rows {
		set[r.Metric] = true
	}
	return slices.SortedFunc(maps.Keys(set), compareMetrics)
}

// comparisonWords are the comparison's words in one language.
type comparisonWords struct {
	Heading, LinksIntro, PageTitle, LibraryTitle, Intro, SumNote                         string
	Counted, CountedOther, CountedNotAlways, CountedCounter, CountedLogins, CountedMixed string
	DriftNone, DriftSome, DriftNoBoth, OneSide                                           string
	ChartHeading, Caption, Vendor, Login, Difference, DifferencePercent, NoPercent       string
	Compared, ComparedOf, LibrariesHeading, LibrariesCaption, MonthsBoth, MonthsDrift    string
	LinksCaption, ToPlatform, ToLibrary, CountedColumn, Sheet                            string
}

// ComparisonCells are a row's vendor figure, login-measured figure, difference and
// difference in percent, in m's language, "no data" where there is none.
func (m messages) ComparisonCells(r ComparisonRow) []string {
	cells := []string{m.NoData, m.NoData, m.NoData, m.NoData}
	if r.Vendor.Valid {
		cells[0] = m.formatInt(r.Vendor.Int64)
	}
	if r.Login.Valid {
		cells[1] = m.formatInt(r.Login.Int64)
	}
	if r.both() {
		cells[2] = m.signedInt(r.Difference.Int64)
		cells[3] = m.Comparison.NoPercent
		if p, ok := r.Percent(); ok {
			cells[3] = m.formatPercent(p)
		}
	}
	return cells
}

// signedInt writes a difference with its sign: "+12", "−3", "0".
func (m messages) signedInt(n int64) string {
	if n > 0 {
		return "+" + m.formatInt(n)
	}
	return m.formatInt(n)
}

// DriftSentence says, of one metric's months, in how many of those with
// both figures the two differ by more than driftPercent, and which; and
// how many months lack a figure from one of the sources.
func (m messages) DriftSentence(rows []ComparisonRow) string {
	w := m.Comparison
	var both, one int
	var drifting []string
	for _, r := range rows {
		switch {
		case r.both():
			both++
			if r.Drifts() {
				p, _ := r.Percent()
				item := m.formatMonth(r.Month)
				if r.Login.Int64 != 0 {
					item += " (" + m.formatPercent(p) + ")"

				}
				drifting = append(drifting, item)
			}
		default:
			one++
		}
	}
	limit := m.formatInt(driftPercent) + m.PercentSign
	var out string
	switch {
	case both == 0:
		out = w.DriftNoBoth
	case len(drifting) == 0:
		out = fmt.Sprintf(w.DriftNone, limit, m.months(both))
	default:
		out = fmt.Sprintf(w.DriftSome, m.formatInt(int64(len(drifting))), m.months(both), limit, strings.Join(drifting, ", "))
	}
	if one > 0 {
		out += " " + fmt.Sprintf(w.OneSide, m.months(one))
	}
	return out
}

// CountedSentence says which source's figure counts in the statistics:
// "Tallet som teller: leverandørens COUNTER-rapport." A source that counts
// in some months only (the vendor's, in a month without logins) is named
// with its months after the one that counts in most.
func (m messages) CountedSentence(rows []ComparisonRow) string {
	main, months := countedSources(rows)
	if len(months) == 0 {
		return ""
	}
	w := m.Comparison
	parts := []string{m.countedName(main)}
	others := slices.Collect(maps.Keys(months))
	slices.SortFunc(others, func(a, b string) int { return months[a][0].Compare(months[b][0]) })
	for _, src := range others {
		if src == main {
			continue
		}
		var list []string
		for _, mo := range months[src] {
			list = append(list, m.formatMonth(mo))
		}
		parts = append(parts, fmt.Sprintf(w.CountedOther, m.countedName(src), strings.Join(list, ", ")))
	}
	return fmt.Sprintf(w.Counted, strings.Join(parts, "; "))
}

// countedSources are the months each counted source counts in rows, in
// order, and the source that counts in most of them (the vendor's on a
// tie: it counts unless the config says otherwise).
func countedSources(rows []ComparisonRow) (string, map[string][]time.Time) {
	seen := map[string]map[time.Time]bool{}
	for _, r := range rows {
		if seen[r.Counted] == nil {
			seen[r.Counted] = map[time.Time]bool{}
		}
		seen[r.Counted][r.Month] = true
	}
	months := map[string][]time.Time{}
	main, found := "", false
	for _, src := range slices.Sorted(maps.Keys(seen)) {
		months[src] = slices.SortedFunc(maps.Keys(seen[src]), time.Time.Compare)
		if n, best := len(months[src]), len(months[main]); !found || n > best || (n == best && src == CountedCounter) {
			main, found = src, true
		}
	}
	return main, months
}

// countedName names a counted source in words; "" (libraries that
// differ) says the source differs.
func (m messages) countedName(src string) string {
	switch src {
	case CountedCounter:
		return m.Comparison.CountedCounter
	case CountedAccessLog:
		return m.Comparison.CountedLogins
	}
	return m.Comparison.CountedMixed
}

// comparisonTable is a metric's comparison as a table whose first two
// series, the vendor's and the login-measured figures, the chart draws
// per month; the difference and its percent are in the table only. With
// sums, a column says how many libraries were summed of how many.
func (m messages) comparisonTable(id, metric string, rows []ComparisonRow, sums bool) *table {
	w := m.Comparison
	label := m.metric(metric)
	t := &table{ID: id, Heading: fmt.Sprintf(w.ChartHeading, label), Caption: fmt.Sprintf(w.Caption, label),
		RowHead: m.Month, Line: true, XTitle: m.AxisMonth, YTitle: label, Explains: anchor(metric), Charted: 2,
		Series: []string{w.Vendor, w.Login, w.Difference, w.DifferencePercent}, Intro: m.DriftSentence(rows)}
	if sums {
		t.Series = append(t.Series, w.Compared)
	}
	for _, r := range rows {
		row := tableRow{Label: m.formatMonth(r.Month), Cells: m.ComparisonCells(r)}
		row.Sort = comparisonSort(r)
		if sums {
			row.Cells = append(row.Cells, fmt.Sprintf(w.ComparedOf, m.formatInt(int64(r.Both)), m.formatInt(int64(r.Libraries))))
		}
		t.add(row, nullFloat(r.Vendor), nullFloat(r.Login))
	}
	return t
}

// comparisonSort are a row's cells as plain numbers, for sorting.
func comparisonSort(r ComparisonRow) []string {
	out := make([]string, 4)
	for i, v := range []sql.NullInt64{r.Vendor, r.Login, r.Difference} {
		if v.Valid && (i < 2 || r.both()) {
			out[i] = fmt.Sprint(v.Int64)
		}
	}
	if p, ok := r.Percent(); ok {
		out[3] = fmt.Sprint(p)
	}
	return out
}

// nullFloat is v as a chart value, NaN (a gap, never 0) when there is none.
func nullFloat(v sql.NullInt64) float64 {
	if !v.Valid {
		return math.NaN()
	}
	return float64(v.Int64)
}

// plainStem is what may name a file as it is.
var plainStem = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// fileStem names a platform's or library's comparison files: its id when
// that is a plain name, else a digest of it, since vendor text must never
// choose a path.
func fileStem(id string) string {
	if plainStem.MatchString(id) && !strings.Contains(id, "..") {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "p-" + hex.EncodeToString(sum[:6])
}
