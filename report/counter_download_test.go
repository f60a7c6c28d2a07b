package report

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/bibliotek24/bibstat/counter"
	"github.com/bibliotek24/bibstat/schemas"
)

var created = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// readCOUNTER reads a download with our own reader, as a library's ERM
// would, and returns its document and rows.
func readCOUNTER(t *testing.T, b []byte) (*counter.Document, []schemas.Row) {
	t.Helper()
	var rows []schemas.Row
	doc, err := counter.Read(context.Background(), bytes.NewReader(b), counter.Options{Name: "download.tsv"},
		func(rec arrow.RecordBatch) error {
			defer rec.Release()
			for i := range int(rec.NumRows()) {
				var r schemas.Row
				r.SetFrom(rec, i)
				r.Platform, r.DataType, r.MetricType = strings.Clone(r.Platform), strings.Clone(r.DataType), strings.Clone(r.MetricType)
				rows = append(rows, r)
			}
			return nil
		})
	if err != nil {
		t.Fatalf("our reader rejects our own COUNTER file: %v\n%s", err, b)
	}
	return doc, rows
}

// TestCOUNTERDownloadReadsBack reads our own COUNTER TSV with our COUNTER
// reader: the totals must survive, and usage of no known Data_Type is
// Unspecified, never an empty cell.
func TestCOUNTERDownloadReadsBack(t *testing.T) {
	b, err := usageCOUNTER(Scope{Kind: "library", ID: "2030100", Name: "Oslo demobibliotek", ISIL: "NO-2030100"}, untypedRows(sampleUsage), created)
	if err != nil {
		t.Fatal(err)
	}
	doc, rows := readCOUNTER(t, b)
	if doc.Release != "5.1" || doc.ReportID != "PR" {
		t.Errorf("release %q report %q", doc.Release, doc.ReportID)
	}
	// R4 usage stays out; R5.1 usage is all there.
	if got := doc.Totals["Total_Item_Requests"]; got != 1234 {
		t.Errorf("Total_Item_Requests = %d, want 1234 (R4's 99 left out)", got)
	}
	if got := doc.Totals["Unique_Item_Requests"]; got != 7 {
		t.Errorf("Unique_Item_Requests = %d, want 7", got)
	}
	if len(doc.Warnings) != 0 {
		t.Errorf("warnings reading our own file: %v", doc.Warnings)
	}
	for _, r := range rows {
		if r.DataType != "Unspecified" {
			t.Errorf("%s %s: Data_Type %q, want Unspecified", r.Platform, r.MetricType, r.DataType)
		}
	}
}

// martsDB is a warehouse's three marts the COUNTER downloads read, with
// data_type unless untyped (a warehouse from before the column).
func martsDB(t *testing.T, untyped bool) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	dt := "data_type VARCHAR,"
	if untyped {
		dt = ""
	}
	ddl := []string{
		`CREATE TABLE mart_library_month (library_id VARCHAR, platform VARCHAR, release VARCHAR, metric_type VARCHAR, ` + dt + `
			month DATE, count BIGINT, pooled DOUBLE, total DOUBLE)`,
		`CREATE TABLE mart_county_month_current (county VARCHAR, county_name VARCHAR, platform VARCHAR, metric_type VARCHAR, ` + dt + `
			month DATE, count DOUBLE, pooled DOUBLE, total DOUBLE)`,
		`CREATE TABLE mart_national_month (platform VARCHAR, metric_type VARCHAR, ` + dt + `
			month DATE, attributed BIGINT, pooled BIGINT, unattributed BIGINT, total BIGINT)`,
	}
	for _, q := range ddl {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if untyped {
		return db
	}
	// Two months of a newspaper archive (its searches typed by the vendor
	// as the content's, which PR does not allow), a reference work with
	// title metrics, usage whose vendor gave no Data_Type, a DR search
	// and R4 usage (both stay out of PR).
	type u struct {
		platform, metric, dataType string
		month                      int
		n                          int64
	}
	usage := []u{
		{"avisarkiv", "Searches_Platform", "Newspaper_or_Newsletter", 1, 50},
		{"avisarkiv", "Total_Item_Investigations", "Newspaper_or_Newsletter", 1, 120},
		{"avisarkiv", "Unique_Item_Investigations", "Newspaper_or_Newsletter", 1, 90},
		{"avisarkiv", "Total_Item_Requests", "Newspaper_or_Newsletter", 1, 100},
		{"avisarkiv", "Unique_Item_Requests", "Newspaper_or_Newsletter", 1, 80},
		{"avisarkiv", "Total_Item_Investigations", "Newspaper_or_Newsletter", 3, 12},
		{"avisarkiv", "Unique_Item_Investigations", "Newspaper_or_Newsletter", 3, 9},
		{"avisarkiv", "Total_Item_Requests", "Newspaper_or_Newsletter", 3, 10},
		{"avisarkiv", "Unique_Item_Requests", "Newspaper_or_Newsletter", 3, 8},
		{"leksikon", "Total_Item_Investigations", "Reference_Work", 2, 40},
		{"leksikon", "Unique_Item_Investigations", "Reference_Work", 2, 30},
		{"leksikon", "Unique_Title_Investigations", "Reference_Work", 2, 20},
		{"leksikon", "Total_Item_Requests", "Reference_Work", 2, 25},
		{"leksikon", "Unique_Item_Requests", "Reference_Work", 2, 15},
		{"leksikon", "Unique_Title_Requests", "Reference_Work", 2, 10},
		{"ukjent", "Total_Item_Investigations", "", 2, 7},
		{"ukjent", "Unique_Item_Investigations", "", 2, 7},
		{"ukjent", "Total_Item_Requests", "", 2, 5},
		{"ukjent", "Unique_Item_Requests", "", 2, 5},
		{"ukjent", "Unique_Title_Requests", "", 2, 5}, // no title without a book: stays out
		{"avisarkiv", "Searches_Regular", "Newspaper_or_Newsletter", 2, 33},
	}
	for _, r := range usage {
		m := time.Date(2025, time.Month(r.month), 1, 0, 0, 0, 0, time.UTC)
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO mart_library_month VALUES ('2030100', ?, '5.1', ?, ?, ?, ?, 0, ?)`, []any{r.platform, r.metric, r.dataType, m, r.n, r.n}},
			{`INSERT INTO mart_county_month_current VALUES ('03', 'Oslo', ?, ?, ?, ?, ?, 0.5, ?)`, []any{r.platform, r.metric, r.dataType, m, float64(r.n) + 0.4, float64(r.n) + 0.9}},
			{`INSERT INTO mart_national_month VALUES (?, ?, ?, ?, ?, 2, 1, ?)`, []any{r.platform, r.metric, r.dataType, m, r.n - 3, r.n}},
		} {
			if _, err := db.Exec(q.sql, q.args...); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := db.Exec(`INSERT INTO mart_library_month VALUES ('2030100', 'gammel', '4', 'Total_Item_Requests', '', DATE '2025-02-01', 99, 0, 99)`); err != nil {
		t.Fatal(err)
	}
	return db
}

var (
	libraryScope = Scope{Kind: "library", ID: "2030100", Name: "Oslo demobibliotek", ISIL: "NO-2030100"}
	countyScope  = Scope{Kind: "county", ID: "03", Name: "Oslo"}
	nationScope  = Scope{Kind: "nation", Name: "Norge"}
)

// TestCOUNTERDownloadsHaveTheMandatoryColumns reads the library, county and
// national downloads back with our reader and checks every column and
// header COUNTER R5.1 makes mandatory for PR, then the COUNTER Validator's
// tabular PR rules: 0 errors.
func TestCOUNTERDownloadsHaveTheMandatoryColumns(t *testing.T) {
	s := &Site{DB: martsDB(t, false), stamp: created}
	for _, sc := range []Scope{libraryScope, countyScope, nationScope} {
		t.Run(sc.Kind, func(t *testing.T) {
			b, err := s.counterDownload(context.Background(), sc, nil)
			if err != nil || b == nil {
				t.Fatalf("download: %v (%d bytes)", err, len(b))
			}
			for _, e := range checkTabularPR(b) {
				t.Errorf("COUNTER Validator rule: %s", e)
			}
			doc, rows := readCOUNTER(t, b)
			if doc.Header.InstitutionID == "" || doc.Header.InstitutionName == "" || doc.Header.Begin.IsZero() || doc.Header.End.IsZero() {
				t.Errorf("header %+v: Institution_ID, Institution_Name and Reporting_Period are mandatory", doc.Header)
			}
			want := map[string]string{"avisarkiv": "Newspaper_or_Newsletter", "leksikon": "Reference_Work", "ukjent": "Unspecified"}
			for _, r := range rows {
				dt := want[r.Platform]
				if r.MetricType == counter.SearchesPlatform {
					dt = "Platform"
				}
				if r.Platform == "" || r.DataType != dt || r.MetricType == "" {
					t.Errorf("row %s/%s/%s, want Data_Type %q", r.Platform, r.DataType, r.MetricType, dt)
				}
			}
			if got := doc.Totals[counter.UniqueTitleRequests]; got != 10 {
				t.Errorf("Unique_Title_Requests %d, want leksikon's 10 (a title of no book stays out)", got)
			}
			if doc.Totals[counter.SearchesRegular] != 0 || doc.Totals[counter.TotalItemRequests] != 140 {
				t.Errorf("totals %v: want no database searches and no R4 in PR, 140 Total_Item_Requests", doc.Totals)
			}
		})
	}
	if b, err := s.counterDownload(context.Background(), Scope{Kind: "county", ID: "50", Name: "Trøndelag"}, nil); err != nil || b != nil {
		t.Errorf("a county without usage: %d bytes, %v; want no COUNTER file", len(b), err)
	}
}

// TestCOUNTERDownloadWithoutDataTypeColumn: a warehouse whose marts keep
// no data_type still gives a valid file, every item row Unspecified.
func TestCOUNTERDownloadWithoutDataTypeColumn(t *testing.T) {
	s := &Site{DB: martsDB(t, true), stamp: created}
	rows := []usageRow{
		{"avisarkiv", "5.1", "Searches_Platform", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), 4, 0, 4},
		{"avisarkiv", "5.1", "Total_Item_Requests", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), 3, 0, 3},
		{"avisarkiv", "5.1", "Unique_Item_Requests", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), 2, 0, 2},
	}
	b, err := s.counterDownload(context.Background(), libraryScope, rows)
	if err != nil || b == nil {
		t.Fatalf("download: %v", err)
	}
	for _, e := range checkTabularPR(b) {
		t.Errorf("COUNTER Validator rule: %s", e)
	}
	if _, got := readCOUNTER(t, b); len(got) != 3 || got[1].DataType != "Unspecified" {
		t.Errorf("rows %+v", got)
	}
}

// TestCheckTabularPRFindsErrors: the rules fail the faults the COUNTER
// Validator found in our downloads before (empty Data_Type, no
// Institution_ID, no Reporting_Period), so the test above can fail.
func TestCheckTabularPRFindsErrors(t *testing.T) {
	good, err := usageCOUNTER(libraryScope, []counterRow{
		{Platform: "p", DataType: "Book", Metric: "Total_Item_Requests", Month: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Count: 3},
	}, created)
	if err != nil {
		t.Fatal(err)
	}
	if errs := checkTabularPR(good); len(errs) != 0 {
		t.Fatalf("good file: %v", errs)
	}
	for _, tc := range []struct {
		name    string
		replace []string // old, new, …
		want    string
	}{
		{"empty Data_Type", []string{"p\tBook\t", "p\t\t"}, "Data_Type \"\" is not one PR takes"},
		{"no Institution_ID", []string{"Institution_ID\tISIL:NO-2030100", "Institution_ID\t"}, "Institution_ID"},
		{"no Reporting_Period", []string{"Reporting_Period\tBegin_Date=2025-01-01; End_Date=2025-01-31", "Reporting_Period\t"}, "Reporting_Period"},
		{"Searches_Platform not Platform", []string{"Book\tTotal_Item_Requests", "Book\tSearches_Platform",
			"Metric_Types\tTotal_Item_Requests", "Metric_Types\tSearches_Platform"}, "must be 'Platform'"},
		{"title metric of no book", []string{"Book\tTotal_Item_Requests", "Journal\tUnique_Title_Requests",
			"Metric_Types\tTotal_Item_Requests", "Metric_Types\tUnique_Title_Requests"}, "only applicable"},
		{"item metric without its title metric", []string{"Book\tTotal_Item_Requests\t3\t3", "Book\tTotal_Item_Requests\t3\t3\r\np\tBook\tUnique_Item_Requests\t2\t2",
			"Metric_Types\tTotal_Item_Requests", "Metric_Types\tTotal_Item_Requests; Unique_Item_Requests; Unique_Title_Requests"},
			"Unique_Title_Requests is missing while Total_Item_Requests is present"},
		{"wrong total", []string{"Total_Item_Requests\t3\t3", "Total_Item_Requests\t4\t3"}, "Reporting_Period_Total"},
	} {
		bad := string(good)
		for i := 0; i < len(tc.replace); i += 2 {
			if !strings.Contains(bad, tc.replace[i]) {
				t.Fatalf("%s: %q not in the file", tc.name, tc.replace[i])
			}
			bad = strings.Replace(bad, tc.replace[i], tc.replace[i+1], 1)
		}
		errs := checkTabularPR([]byte(bad))
		if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, tc.want) }) {
			t.Errorf("%s: errors %v, want one with %q", tc.name, errs, tc.want)
		}
	}
}

// The COUNTER Validator's R5.1 tabular PR rules (berndoberknapp/c5tools:
// TabularReportHeader, TabularParsers, ReportHeader, AttributePerformance51
// and config/r51/reports/pr.php), as far as a file without Access_Method,
// exceptions or filters can break them.
var (
	prHeaderLabels = []string{"Report_Name", "Report_ID", "Release", "Institution_Name", "Institution_ID", "Metric_Types",
		"Report_Filters", "Report_Attributes", "Exceptions", "Reporting_Period", "Created", "Created_By", "Registry_Record"}
	namespaceRE = regexp.MustCompile(`^(ISIL|ISNI|OCLC|ROR|[a-zA-Z][a-zA-Z0-9_./]{1,17})$`)
	periodRE    = regexp.MustCompile(`^Begin_Date=(\d{4}-\d{2}-01); End_Date=(\d{4}-\d{2}-\d{2})$`)
	// Pairs of metrics where the first counts at least the second, and
	// must be there when the second is (AttributePerformance51).
	itemRelations  = [][2]string{{"Total_Item_Investigations", "Unique_Item_Investigations"}, {"Total_Item_Investigations", "Total_Item_Requests"}, {"Total_Item_Investigations", "Unique_Item_Requests"}, {"Unique_Item_Investigations", "Unique_Item_Requests"}, {"Total_Item_Requests", "Unique_Item_Requests"}}
	titleRelations = [][2]string{{"Total_Item_Investigations", "Unique_Title_Investigations"}, {"Total_Item_Investigations", "Unique_Title_Requests"}, {"Unique_Item_Investigations", "Unique_Title_Investigations"}, {"Unique_Item_Investigations", "Unique_Title_Requests"}, {"Unique_Title_Investigations", "Unique_Title_Requests"}, {"Total_Item_Requests", "Unique_Title_Requests"}, {"Unique_Item_Requests", "Unique_Title_Requests"}}
)

// checkTabularPR lists the errors the COUNTER Validator would find in a
// tabular R5.1 PR without Report_Attributes.
func checkTabularPR(b []byte) []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	lines := strings.Split(strings.TrimSuffix(strings.TrimPrefix(string(b), "\ufeff"), "\r\n"), "\r\n")
	if len(lines) < 16 {
		return []string{fmt.Sprintf("%d lines: a header, a blank row, headings and at least one row are needed", len(lines))}
	}
	head := map[string]string{}
	for i, label := range prHeaderLabels {
		cells := strings.Split(lines[i], "\t")
		if cells[0] != label || len(cells) != 2 {
			bad("row %d: want label %s and one value, got %q", i+1, label, lines[i])
			continue
		}
		head[label] = cells[1]
	}
	for label, want := range map[string]string{"Report_Name": "Platform Report", "Report_ID": "PR", "Release": "5.1",
		"Report_Filters": "", "Report_Attributes": "", "Exceptions": "", "Registry_Record": ""} {
		if head[label] != want {
			bad("%s %q, want %q", label, head[label], want)
		}
	}
	if head["Institution_Name"] == "" || head["Created_By"] == "" {
		bad("Institution_Name and Created_By must not be empty")
	}
	if _, err := time.Parse(time.RFC3339, head["Created"]); err != nil {
		bad("Created %q is not RFC 3339", head["Created"])
	}
	seen := map[string]bool{}
	for _, id := range strings.Split(head["Institution_ID"], "; ") {
		ns, v, ok := strings.Cut(id, ":")
		if !ok || v == "" || !namespaceRE.MatchString(ns) || seen[ns] {
			bad("Institution_ID %q: want namespace:value, one value per namespace", id)
		}
		seen[ns] = true
	}
	metricTypes := strings.Split(head["Metric_Types"], "; ")
	for _, m := range metricTypes {
		if !slices.Contains(prMetrics, m) {
			bad("Metric_Types: %q is not a PR metric", m)
		}
	}
	p := periodRE.FindStringSubmatch(head["Reporting_Period"])
	var months []string
	if p == nil {
		bad("Reporting_Period %q, want Begin_Date=yyyy-mm-01; End_Date=yyyy-mm-dd", head["Reporting_Period"])
	} else if begin, err1 := time.Parse(time.DateOnly, p[1]); err1 == nil {
		end, err2 := time.Parse(time.DateOnly, p[2])
		if err2 != nil || end.AddDate(0, 0, 1).Day() != 1 || end.Before(begin) {
			bad("Reporting_Period End_Date %s is not the last day of a month after Begin_Date", p[2])
		}
		for m := begin; !m.After(end); m = m.AddDate(0, 1, 0) {
			months = append(months, m.Format("Jan-2006"))
		}
	}
	if strings.Trim(lines[13], "\t") != "" {
		bad("row 14 must be empty, got %q", lines[13])
	}
	if want := strings.Join(append([]string{"Platform", "Data_Type", "Metric_Type", "Reporting_Period_Total"}, months...), "\t"); lines[14] != want {
		bad("row 15: headings %q, want %q", lines[14], want)
	}
	errs = append(errs, checkPRRows(lines[15:], len(months), metricTypes)...)
	return errs
}

// checkPRRows checks the data rows: the mandatory cells, the Data_Types
// and metrics PR allows, totals, and the relations between metrics of one
// Platform and Data_Type in each month.
func checkPRRows(lines []string, months int, metricTypes []string) []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	counts := map[[2]string]map[string][]int64{} // (platform, Data_Type) → metric → per month
	for i, line := range lines {
		c := strings.Split(line, "\t")
		if len(c) != 4+months {
			bad("row %d: %d cells, want %d", 16+i, len(c), 4+months)
			continue
		}
		platform, dt, metric := c[0], c[1], c[2]
		if platform == "" {
			bad("row %d: Platform is empty", 16+i)
		}
		if !slices.Contains(prDataTypes, dt) {
			bad("row %d: Data_Type %q is not one PR takes", 16+i, dt)
		}
		if !slices.Contains(metricTypes, metric) {
			bad("row %d: Metric_Type %q is not in Metric_Types", 16+i, metric)
		}
		if (metric == counter.SearchesPlatform) != (dt == "Platform") {
			bad("row %d: Data_Type must be 'Platform' for Searches_Platform, and only for it (%s/%s)", 16+i, dt, metric)
		}
		if strings.HasPrefix(metric, "Unique_Title_") && !slices.Contains(counter.BookDataTypes, dt) {
			bad("row %d: Metric_Type %s is only applicable for Book and Reference_Work, not %s", 16+i, metric, dt)
		}
		k := [2]string{platform, dt}
		if counts[k] == nil {
			counts[k] = map[string][]int64{}
		}
		if counts[k][metric] != nil {
			bad("row %d: a second row for %s/%s/%s", 16+i, platform, dt, metric)
		}
		var sum int64
		for _, cell := range c[4:] {
			n, err := strconv.ParseInt(cell, 10, 64)
			if err != nil || n < 0 {
				bad("row %d: month cell %q is not a count", 16+i, cell)
			}
			sum += n
			counts[k][metric] = append(counts[k][metric], n)
		}
		if total, err := strconv.ParseInt(c[3], 10, 64); err != nil || total != sum || total == 0 {
			bad("row %d: Reporting_Period_Total %q, want the months' sum %d, and no row of 0", 16+i, c[3], sum)
		}
	}
	titles := slices.ContainsFunc(metricTypes, func(m string) bool { return strings.HasPrefix(m, "Unique_Title_") })
	for k, byMetric := range counts {
		isBook := slices.Contains(counter.BookDataTypes, k[1])
		rel := itemRelations
		if titles {
			rel = append(slices.Clip(rel), titleRelations...)
		}
		for _, r := range rel {
			if !slices.Contains(metricTypes, r[0]) || !slices.Contains(metricTypes, r[1]) {
				continue
			}
			for m := range months {
				a, b := at(byMetric[r[0]], m), at(byMetric[r[1]], m)
				switch {
				case a == 0 && b > 0:
					bad("%s/%s month %d: %s is missing while %s is present", k[0], k[1], m+1, r[0], r[1])
				case a > 0 && b == 0 && !(strings.HasSuffix(r[0], "_Investigations") && strings.HasSuffix(r[1], "_Requests")) &&
					!(strings.Contains(r[1], "_Title_") && !isBook):
					bad("%s/%s month %d: %s is missing while %s is present", k[0], k[1], m+1, r[1], r[0])
				case a < b:
					bad("%s/%s month %d: less %s than %s", k[0], k[1], m+1, r[0], r[1])
				}
			}
		}
	}
	return errs
}

func at(ns []int64, i int) int64 {
	if i < len(ns) {
		return ns[i]
	}
	return 0
}
