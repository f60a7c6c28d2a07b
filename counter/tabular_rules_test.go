package counter

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

var update = flag.Bool("update", false, "rewrite the generated fixtures (xlsx-broken-sheet.xlsx)")

// ruleRow is what a test checks of one emitted row.
type ruleRow struct {
	metric, month string
	count         int64
}

// readRule reads a fixture, returning the document, its rows (metric,
// month, count) and the sum of the emitted counts by metric.
func readRule(t *testing.T, name string, opts Options) (*Document, []ruleRow, map[string]int64, error) {
	t.Helper()
	in, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	doc, rows, err := readRows(t, name, in, opts)
	sums := map[string]int64{}
	for _, r := range rows {
		sums[r.metric] += r.count
	}
	return doc, rows, sums, err
}

// TestTabularRules holds each fixture of issue 14's tabular and R4 rules
// to what it must read as: its error, or its report, rows, totals, Empty,
// Skipped and the warning that explains a quirk.
func TestTabularRules(t *testing.T) {
	tests := []struct {
		file    string
		opts    Options
		err     string // a substring of the error; "" for none
		errIs   error  // what the error must match, if anything
		id, rel string
		rows    int64
		totals  map[string]int64
		empty   bool
		skipped int64
		warning string // a substring of one warning
	}{
		// 1. zero only when the vendor says so
		{file: "tsv-empty-complete-header.tsv", id: "TR_J1", rel: "5.1", empty: true},
		{file: "tsv-zero-rows.tsv", id: "TR_J1", rel: "5.1"},
		{file: "header_only.tsv", id: "TR", rel: "5"},
		{file: "tsv-only-outside-period.tsv", id: "TR_J1", rel: "5.1", skipped: 4, warning: "outside the reporting period"},
		{file: "r4-jr1-empty.tsv", id: "JR1", rel: "4", empty: true, warning: "summary row"},
		// 2. every R4 report by its own name
		{file: "r4-jr1-goa.tsv", err: "JR1 GOA is not loaded: its usage is part of JR1", errIs: errRefused},
		{file: "r4-jr1-goa-description.tsv", err: "JR1 GOA is not loaded: its usage is part of JR1", errIs: errRefused},
		{file: "r4-jr1a.tsv", err: "JR1a is not loaded: its usage is part of JR1", errIs: errRefused},
		{file: "r4-jr5.tsv", err: "JR5 is not loaded: its columns are years of publication", errIs: errRefused},
		{file: "r4-jr2.tsv", id: "JR2", rel: "4", rows: 4, totals: map[string]int64{LimitExceeded: 6, NoLicense: 4},
			skipped: 1, warning: `Access Denied Category "Access denied: other reasons" has no R5 Metric_Type`},
		{file: "r4-br1.tsv", id: "BR1", rel: "4", rows: 3, totals: map[string]int64{UniqueTitleRequests: 9}, warning: "Total for all titles"},
		{file: "r4-br3.tsv", id: "BR3", rel: "4", rows: 4, totals: map[string]int64{LimitExceeded: 3, NoLicense: 5}},
		{file: "r4-db2.tsv", id: "DB2", rel: "4", rows: 3, totals: map[string]int64{LimitExceeded: 2, NoLicense: 1}},
		{file: "r4-mr1.tsv", id: "MR1", rel: "4", rows: 3, totals: map[string]int64{TotalItemRequests: 7}, warning: "Total for all collections"},
		{file: "r4-db1-no-header.tsv", id: "DB1", rel: "4", rows: 8,
			totals:  map[string]int64{SearchesRegular: 6, SearchesAutomated: 3, TotalItemInvestigations: 3},
			warning: "taken as R4 DB1 from its column headings"},
		{file: "r4-jr1-no-header.tsv", err: "not a report that can be told"},
		// 3. tabular files as vendors write them
		{file: "tsv-quoted-first-cell.csv", id: "PR", rel: "5.1", rows: 4,
			totals: map[string]int64{SearchesPlatform: 1500, TotalItemRequests: 12}},
		{file: "csv-semicolon.csv", id: "TR", rel: "5", rows: 4,
			totals: map[string]int64{TotalItemRequests: 1002, UniqueItemRequests: 7}},
		// 4. month headings: the position in the period decides
		{file: "tsv-month-heading-position.tsv", id: "TR_J1", rel: "5.1", rows: 3,
			totals: map[string]int64{TotalItemRequests: 6}, warning: `column "11-Feb" reads as 2011-02, but it is month 2`},
		// 5. bad values are errors
		{file: "tsv-bad-count.tsv", err: `row 17 column "Jan-2025": value "x2": not a whole non-negative number`, errIs: ErrNotACount},
		{file: "tsv-bad-count.tsv", opts: Options{AcceptPartial: true}, id: "TR_J1", rel: "5.1", rows: 5,
			totals: map[string]int64{TotalItemRequests: 24}, skipped: 1, warning: `value "x2"`},
		{file: "tsv-unbalanced-quote.tsv", err: "line 17: a quote opened on this line is never closed"},
		{file: "xlsx-broken-sheet.xlsx", err: "xl/worksheets/sheet1.xml is broken"},
		// 6. each use counted once
		{file: "tsv-mismatched-id.tsv", id: "TR", rel: "5.1", rows: 1, totals: map[string]int64{TotalItemRequests: 3},
			warning: `Report_ID DR disagrees with the Report_Name "Title Report" and the columns; taken as TR`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s partial=%v", tt.file, tt.opts.AcceptPartial), func(t *testing.T) {
			doc, rows, sums, err := readRule(t, tt.file, tt.opts)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), tt.file+": ") {
					t.Fatalf("err = %v; want one naming the file and saying %q", err, tt.err)
				}
				if tt.errIs == errRefused {
					var re *ReportRefusedError
					if !errors.As(err, &re) {
						t.Errorf("err %v is no ReportRefusedError", err)
					}
				} else if tt.errIs != nil && !errors.Is(err, tt.errIs) {
					t.Errorf("err %v is not %v", err, tt.errIs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if doc.Kind != KindReport || doc.ReportID != tt.id || doc.Release != tt.rel || doc.Rows != tt.rows {
				t.Errorf("kind=%s id=%s release=%s rows=%d; want report %s %s %d", doc.Kind, doc.ReportID, doc.Release, doc.Rows, tt.id, tt.rel, tt.rows)
			}
			if int64(len(rows)) != doc.Rows {
				t.Errorf("%d rows emitted, the document says %d", len(rows), doc.Rows)
			}
			if fmt.Sprint(doc.Totals) != fmt.Sprint(sums) && (len(doc.Totals) > 0 || len(sums) > 0) {
				t.Errorf("totals %v, but the rows sum to %v", doc.Totals, sums)
			}
			if len(tt.totals) != len(doc.Totals) || fmt.Sprint(doc.Totals) != fmt.Sprint(tt.totals) && len(tt.totals) > 0 {
				t.Errorf("totals %v; want %v", doc.Totals, tt.totals)
			}
			for _, r := range rows {
				if !IsMetric(r.metric) {
					t.Errorf("row with metric %q, not a COUNTER Metric_Type", r.metric)
				}
			}
			if doc.Empty != tt.empty || doc.Skipped != tt.skipped {
				t.Errorf("empty=%v skipped=%d; want %v %d (warnings %q)", doc.Empty, doc.Skipped, tt.empty, tt.skipped, doc.Warnings)
			}
			if tt.warning != "" && !strings.Contains(strings.Join(doc.Warnings, "\n"), tt.warning) {
				t.Errorf("warnings %q; want one saying %q", doc.Warnings, tt.warning)
			}
		})
	}
}

// errRefused marks a test whose error must be a *ReportRefusedError.
var errRefused = errors.New("refused")

// TestMonthHeadingPosition checks the months the position rule gives.
func TestMonthHeadingPosition(t *testing.T) {
	_, rows, _, err := readRule(t, "tsv-month-heading-position.tsv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []ruleRow{{TotalItemRequests, "2013-01", 1}, {TotalItemRequests, "2013-02", 2}, {TotalItemRequests, "2013-03", 3}}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("rows %v; want %v", rows, want)
	}
}

// TestSeparators: the separator is decided once, from the headings (or
// the first line), whatever the cells hold.
func TestSeparators(t *testing.T) {
	tests := []struct {
		name, head string
		want       byte
	}{
		{"TSV", "Report_Name\tPlatform Report\nPlatform\tMetric_Type\tJan-2025\n", '\t'},
		{"CSV with a tab in a quoted cell", "\"Report_Name\",\"A\tB\"\n\"Platform\",\"Metric_Type\",\"Jan-2025\"\n", ','},
		{"semicolon CSV with commas in cells", "Report_Name;Title Report\nTitle;Publisher;Metric_Type;Jan-2025\n\"A, B\";P;Total_Item_Requests;1\n", ';'},
		{"comma CSV with semicolons in values", "Report_Name,Platform Report\nMetric_Types,Searches_Platform; Total_Item_Requests\nPlatform,Metric_Type,Jan-2025\n", ','},
		{"R4 title with a comma in its description", "Database Report 1 (R4),\"Total Searches, Result Clicks\"\nX\n", ','},
		{"R4 TSV title with a comma in its description", "Database Report 1 (R4)\tTotal Searches, Result Clicks\nX\n", '\t'},
	}
	for _, tt := range tests {
		if got := detectSep([]byte(tt.head)); got != tt.want {
			t.Errorf("%s: separator %q; want %q", tt.name, got, tt.want)
		}
	}
}

// TestQuotedTabular: a quoted first cell followed by a separator is a
// tabular file; a JSON string document is not.
func TestQuotedTabular(t *testing.T) {
	tests := map[string]bool{
		`"Report_Name","Platform Report"`:      true,
		"\"Report_Name\"\t\"Platform Report\"": true,
		`"Report_Name";"Title Report"`:         true,
		`"","x"`:                               true,
		`"{\"Report_Header\":{}}"`:             false,
		`"{\"a\":\",b\"}"`:                     false,
		`"just a string"`:                      false,
		"\"Report_Name\n\",x":                  false,
	}
	for in, want := range tests {
		if got := quotedTabular([]byte(in)); got != want {
			t.Errorf("quotedTabular(%q) = %v; want %v", in, got, want)
		}
	}
}

// TestBadCounts: every value that is not a whole non-negative count fails
// the file with a CellError naming the row, column and value.
func TestBadCounts(t *testing.T) {
	for _, v := range []string{"x2", "-3", "1.5", "n/a", "-", "1e3", "1.000", "NaN"} {
		in := trHeader + trLine("T", "", v, "1")
		_, err := Read(context.Background(), strings.NewReader(in), Options{Name: "bad.tsv"}, nil)
		var ce *CellError
		if !errors.As(err, &ce) || !errors.Is(err, ErrNotACount) || ce.Row != 16 || ce.Column != "Jan-2025" || ce.Value != v {
			t.Errorf("%q: err %v; want a CellError at row 16, Jan-2025, not a count", v, err)
		}
	}
	for _, v := range []string{"10000000000000000000", "1e18"} {
		_, err := Read(context.Background(), strings.NewReader(trHeader+trLine("T", "", v, "1")), Options{Name: "big.tsv"}, nil)
		if !errors.Is(err, ErrOverflow) {
			t.Errorf("%q: err %v; want ErrOverflow", v, err)
		}
	}
}

// TestXLSXBrokenSheet regenerates the broken workbook with -update and
// checks the committed one is what brokenSheetXLSX makes.
func TestXLSXBrokenSheet(t *testing.T) {
	b := brokenSheetXLSX(t)
	path := filepath.Join(fixtures, "xlsx-broken-sheet.xlsx")
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The unbroken workbook reads, all rows: the fixture fails for its break only.
	whole := brokenSheetXLSXWith(t, false)
	doc, err := Read(context.Background(), bytes.NewReader(whole), Options{Name: "whole.xlsx"}, nil)
	if err != nil || doc.Rows != 6 {
		t.Fatalf("unbroken workbook: rows %d, err %v; want 6 rows", doc.Rows, err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%v (run go test -run TestXLSXBrokenSheet -update)", err)
	}
}

func brokenSheetXLSX(t *testing.T) []byte { return brokenSheetXLSXWith(t, true) }

// brokenSheetXLSXWith writes an R5.1 TR_J1 workbook, its sheet's XML
// broken in the middle of its data rows when broken is set.
func brokenSheetXLSXWith(t *testing.T, broken bool) []byte {
	t.Helper()
	f := excelize.NewFile()
	rows := [][]any{
		{"Report_Name", "Journal Requests (Controlled)"}, {"Report_ID", "TR_J1"}, {"Release", "5.1"},
		{"Institution_Name", "Fixture Library"}, {"Institution_ID", "ISIL:NO-2030100"},
		{"Metric_Types", "Total_Item_Requests; Unique_Item_Requests"}, {"Report_Filters", "Access_Method=Regular"},
		{"Report_Attributes", ""}, {"Exceptions", ""}, {"Reporting_Period", "Begin_Date=2025-01-01; End_Date=2025-03-31"},
		{"Created", "2025-04-02T10:00:00Z"}, {"Created_By", "Fixture Vendor"}, {"Registry_Record", ""}, {},
		{"Title", "Publisher", "Platform", "Metric_Type", "Reporting_Period_Total", "Jan-2025", "Feb-2025", "Mar-2025"},
		{"A", "P", "X", "Total_Item_Requests", 6, 1, 2, 3},
		{"B", "P", "X", "Total_Item_Requests", 6, 1, 2, 3},
	}
	for i, r := range rows {
		if err := f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i+1), &r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if !broken {
		return buf.Bytes()
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if zf.Name == "xl/worksheets/sheet1.xml" {
			i := bytes.Index(b, []byte(`<row r="17"`))
			if i < 0 {
				t.Fatalf("no row 17 in %s", b)
			}
			b = append(b[:i:i], append([]byte(`<row r="17"><c r="A17" t="str"><v>broken</c>`), b[i:]...)...)
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: zf.Name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestSeparatorsSameDocument: a TSV fixture written as CSV with every cell
// quoted, with ',' or ';', is the same document: the same rows, totals,
// Empty and Skipped (the property behind "files as vendors write them").
func TestSeparatorsSameDocument(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*.tsv"))
	n := 0
	for _, name := range files {
		in, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		want, werr := Read(context.Background(), bytes.NewReader(in), Options{Name: "f"}, nil)
		if werr != nil || bytes.ContainsRune(in, '"') {
			continue
		}
		for _, sep := range []string{",", ";"} {
			var b strings.Builder
			for _, line := range strings.SplitAfter(string(in), "\n") {
				eol := line[len(strings.TrimRight(line, "\r\n")):]
				cells := strings.Split(strings.TrimRight(line, "\r\n"), "\t")
				if len(line) == 0 {
					continue
				}
				for i, c := range cells {
					if i > 0 {
						b.WriteString(sep)
					}
					b.WriteString(`"` + c + `"`)
				}
				b.WriteString(eol)
			}
			got, err := Read(context.Background(), strings.NewReader(b.String()), Options{Name: "f"}, nil)
			if err != nil {
				t.Errorf("%s as %q-CSV: %v", filepath.Base(name), sep, err)
				continue
			}
			if got.Rows != want.Rows || fmt.Sprint(got.Totals) != fmt.Sprint(want.Totals) || got.Empty != want.Empty ||
				got.Skipped != want.Skipped || got.ReportID != want.ReportID {
				t.Errorf("%s as %q-CSV: rows %d totals %v empty %v skipped %d id %s; as TSV %d %v %v %d %s", filepath.Base(name), sep,
					got.Rows, got.Totals, got.Empty, got.Skipped, got.ReportID, want.Rows, want.Totals, want.Empty, want.Skipped, want.ReportID)
			}
			n++
		}
	}
	if n < 10 {
		t.Errorf("only %d variants read; the fixtures moved?", n)
	}
}
