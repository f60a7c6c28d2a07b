package report

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat/counter"
)

// counterDownload is the scope's COUNTER R5.1 download: kept apart from the
// spreadsheet downloads because it follows the Code of Practice, not the
// reader's language. It reads the marts itself, for their Data_Type; rows
// (the other downloads' usage) serve only a warehouse whose marts keep no
// data_type yet, and then every row is Unspecified, the Data_Type COUNTER
// has for usage whose type is not known. A scope without usage gets no
// COUNTER file (nil): a valid empty report must say 3030, "no usage", and
// an empty scope may as well be one nothing was harvested for.
func (s *Site) counterDownload(ctx context.Context, sc Scope, rows []usageRow) ([]byte, error) {
	crows, err := s.counterInputs(ctx, sc, rows)
	if err != nil {
		return nil, err
	}
	return usageCOUNTER(sc, crows, s.created())
}

// counterInputs are the rows counterDownload makes the scope's COUNTER
// file of.
func (s *Site) counterInputs(ctx context.Context, sc Scope, rows []usageRow) ([]counterRow, error) {
	crows, err := s.counterRows(ctx, sc)
	if err != nil {
		return nil, err
	}
	if crows == nil {
		crows = untypedRows(rows)
	}
	return crows, nil
}

// counterRow is usage per platform, Data_Type, metric and month, in whole
// numbers as COUNTER counts are.
type counterRow struct {
	Platform, DataType, Metric string
	Month                      time.Time
	Count                      int64
}

// counterQueries read a scope's usage with its Data_Type. Libraries count
// what is attributed to them (pool shares are fractions, kept in the other
// downloads) and leave R4 out (its metrics are not R5's); counties round
// their municipality-weighted sums; the nation counts all of its usage.
var counterQueries = map[string]struct{ table, query string }{
	"library": {"mart_library_month", `SELECT platform, coalesce(data_type, ''), metric_type, month, count
		FROM mart_library_month WHERE library_id = ? AND release <> '4' ORDER BY ALL`},
	"county": {"mart_county_month_current", `SELECT platform, coalesce(data_type, ''), metric_type, month, round(count)::BIGINT
		FROM mart_county_month_current WHERE county = ? ORDER BY ALL`},
	"nation": {"mart_national_month", `SELECT platform, coalesce(data_type, ''), metric_type, month, total::BIGINT
		FROM mart_national_month WHERE ? = '' ORDER BY ALL`},
}

// counterRows reads the scope's usage from its mart; nil, without an
// error, when the mart has no data_type column (a warehouse built before
// it had one).
func (s *Site) counterRows(ctx context.Context, sc Scope) ([]counterRow, error) {
	if rows, ok := s.counterCache[sc.Kind][sc.ID]; ok {
		return rows, nil // prefetchCounter read every scope's at once
	}
	q, ok := counterQueries[sc.Kind]
	if !ok || s.DB == nil {
		return nil, nil
	}
	var typed int
	if err := s.DB.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.columns
		WHERE table_name = ? AND column_name = 'data_type'`, q.table).Scan(&typed); err != nil {
		return nil, fmt.Errorf("COUNTER download of %s %s: %w", sc.Kind, sc.ID, err)
	}
	if typed == 0 {
		return nil, nil
	}
	rs, err := s.DB.QueryContext(ctx, q.query, sc.ID)
	if err != nil {
		return nil, fmt.Errorf("COUNTER download of %s %s: %w", sc.Kind, sc.ID, err)
	}
	defer rs.Close()
	out := []counterRow{}
	for rs.Next() {
		var r counterRow
		if err := rs.Scan(&r.Platform, &r.DataType, &r.Metric, &r.Month, &r.Count); err != nil {
			return nil, fmt.Errorf("COUNTER download of %s %s: %w", sc.Kind, sc.ID, err)
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

// untypedRows are the other downloads' rows without a Data_Type.
func untypedRows(rows []usageRow) []counterRow {
	out := make([]counterRow, 0, len(rows))
	for _, r := range rows {
		if r.Release != "4" {
			out = append(out, counterRow{Platform: r.Platform, Metric: r.Metric, Month: r.Month, Count: r.Count})
		}
	}
	return out
}

// prDataTypes are the Data_Types an R5.1 Platform Report may show (CoP 5.1
// Table 3.p without the database types, which PR does not take; the
// COUNTER Validator's list).
var prDataTypes = []string{"Article", "Audiovisual", "Book", "Book_Segment", "Conference", "Conference_Item",
	"Database_Full_Item", "Dataset", "Image", "Interactive_Resource", "Journal", "Multimedia", "News_Item",
	"Newspaper_or_Newsletter", "Other", "Patent", "Platform", "Reference_Item", "Reference_Work", "Report",
	"Software", "Sound", "Standard", "Thesis_or_Dissertation", "Unspecified"}

// prMetrics are PR's Metric_Types, in the order the file lists them.
var prMetrics = append([]string{counter.SearchesPlatform}, counter.UsageMetrics...)

// prDataType is the Data_Type a PR row of metric shows for usage the
// vendor typed dt. Searches_Platform is always Platform's, and Platform
// has no other metric; a type PR does not take, or none, is Unspecified.
// ok is false for a Unique_Title metric of a type that has no titles (only
// Book and Reference_Work do): COUNTER has no such row, and it stays out.
func prDataType(dt, metric string) (string, bool) {
	switch {
	case metric == counter.SearchesPlatform:
		return "Platform", true
	case dt == "Platform" || !slices.Contains(prDataTypes, dt):
		dt = "Unspecified"
	}
	if strings.HasPrefix(metric, "Unique_Title_") && !slices.Contains(counter.BookDataTypes, dt) {
		return dt, false
	}
	return dt, true
}

// prShown says whether a row shows in the PR, and under which Data_Type:
// a metric PR has, a count that is not zero (prDataType's ok).
func prShown(r counterRow) (string, bool) {
	dt, ok := prDataType(r.DataType, r.Metric)
	return dt, ok && slices.Contains(prMetrics, r.Metric) && r.Count != 0
}

// institutionID names the scope in the header: a library by its ISIL; a
// county or the nation, which no registry numbers, by an id of the
// consortium's own namespace, as a platform names its customers.
func institutionID(sc Scope) string {
	switch {
	case sc.Kind == "library" && sc.ISIL != "":
		return "ISIL:" + sc.ISIL
	case sc.Kind == "nation":
		return "bibliotek24:NO"
	}
	return "bibliotek24:" + sc.Kind + "-" + sc.ID
}

// usageCOUNTER writes usage as an R5.1 Platform Report in tabular form: the
// 13-row header, a blank row, column headings, one row per platform ×
// Data_Type × metric with a column per month from the scope's first month
// with usage to its last. Metrics PR does not have (database searches,
// denials) stay in the other downloads. No usage is no file (nil).
func usageCOUNTER(sc Scope, rows []counterRow, now time.Time) ([]byte, error) {
	type key struct{ platform, dataType, metric string }
	var keys []key
	counts := map[key]map[time.Time]int64{}
	var first, last time.Time
	metrics := map[string]bool{}
	for _, r := range rows {
		dt, ok := prShown(r)
		if !ok {
			continue
		}
		k := key{r.Platform, dt, r.Metric}
		if counts[k] == nil {
			counts[k] = map[time.Time]int64{}
			keys = append(keys, k)
		}
		counts[k][r.Month] += r.Count
		metrics[r.Metric] = true
		if first.IsZero() || r.Month.Before(first) {
			first = r.Month
		}
		if r.Month.After(last) {
			last = r.Month
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.platform, b.platform), cmp.Compare(a.dataType, b.dataType),
			cmp.Compare(slices.Index(prMetrics, a.metric), slices.Index(prMetrics, b.metric)))
	})
	var months []time.Time
	for mo := first; !mo.After(last); mo = mo.AddDate(0, 1, 0) {
		months = append(months, mo)
	}
	var metricList []string
	for _, mt := range prMetrics {
		if metrics[mt] {
			metricList = append(metricList, mt)
		}
	}
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	header := [][2]string{
		{"Report_Name", "Platform Report"}, {"Report_ID", "PR"}, {"Release", "5.1"},
		{"Institution_Name", tsvCell(sc.Name)}, {"Institution_ID", tsvCell(institutionID(sc))},
		{"Metric_Types", strings.Join(metricList, "; ")}, {"Report_Filters", ""},
		// Data_Type is always shown in R5.1, and no attribute is: Access_Method is summed over.
		{"Report_Attributes", ""}, {"Exceptions", ""},
		{"Reporting_Period", fmt.Sprintf("Begin_Date=%s; End_Date=%s", first.Format(time.DateOnly), last.AddDate(0, 1, -1).Format(time.DateOnly))},
		{"Created", now.UTC().Format(time.RFC3339)}, {"Created_By", "BibStat (Bibliotek24)"}, {"Registry_Record", ""},
	}
	for _, h := range header {
		buf.WriteString(h[0] + "\t" + h[1] + "\r\n")
	}
	buf.WriteString("\r\n")
	buf.WriteString("Platform\tData_Type\tMetric_Type\tReporting_Period_Total")
	for _, mo := range months {
		buf.WriteString("\t" + mo.Format("Jan-2006"))
	}
	buf.WriteString("\r\n")
	for _, k := range keys {
		var total int64
		for _, n := range counts[k] {
			total += n
		}
		fmt.Fprintf(&buf, "%s\t%s\t%s\t%d", tsvCell(k.platform), k.dataType, k.metric, total)
		for _, mo := range months {
			fmt.Fprintf(&buf, "\t%d", counts[k][mo])
		}
		buf.WriteString("\r\n")
	}
	return buf.Bytes(), nil
}

// tsvCell keeps a value on its own cell: tabs and line breaks become spaces,
// and it cannot start a formula.
func tsvCell(s string) string {
	return safeCell(strings.NewReplacer("\t", " ", "\r", " ", "\n", " ").Replace(s))
}
