package counter

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/bibliotek24/bibstat/schemas"
)

const fixtures = "../testdata/counter"

func readFile(t *testing.T, name string, opts Options) (*Document, []arrow.RecordBatch, error) {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	opts.Mem, opts.Name = mem, name
	var recs []arrow.RecordBatch
	doc, err := Read(context.Background(), f, opts, func(rec arrow.RecordBatch) error { recs = append(recs, rec); return nil })
	t.Cleanup(func() {
		for _, r := range recs {
			r.Release()
		}
	})
	return doc, recs, err
}

func TestFixtures(t *testing.T) {
	tests := []struct {
		file     string
		kind     Kind
		release  string
		id       string
		rows     int64
		totals   map[string]int64
		excCodes []int
		warning  string // a substring of one warning, if any is expected
	}{
		{"r51_pr.json", KindReport, "5.1", "PR", 3, map[string]int64{"Total_Item_Requests": 1010, "Unique_Item_Requests": 4}, nil, "duplicate JSON key"},
		{"r5_tr.json", KindReport, "5", "TR", 3, map[string]int64{"Total_Item_Requests": 12, "Unique_Item_Requests": 3}, []int{3031}, "counts are strings"},
		{"r51_ir.json", KindReport, "5.1", "IR", 3, map[string]int64{"Total_Item_Requests": 5, "Unique_Item_Requests": 1}, nil, ""},
		{"exception_bare.json", KindExceptions, "", "", 0, nil, []int{1011}, "is a string"},
		{"exceptions_array.json", KindExceptions, "", "", 0, nil, []int{2000, 3060}, ""},
		{"envelope.json", KindExceptions, "", "", 0, nil, []int{1001}, ""},
		{"string_encoded.json", KindReport, "5.1", "PR_P1", 1, map[string]int64{"Searches_Platform": 12}, nil, "JSON-encoded string"},
		{"root_header.json", KindReport, "5", "DR", 0, nil, []int{3030}, "without Report_Header"},
		{"reports_list.json", KindReportList, "5.1", "", 0, nil, nil, ""},
		{"tr_j3_r51.tsv", KindReport, "5.1", "TR_J3", 3, map[string]int64{"Total_Item_Requests": 1200, "Unique_Item_Requests": 4}, []int{3031}, "outside the reporting period"},
		{"dr_r5.csv", KindReport, "5", "DR", 4, map[string]int64{"Searches_Regular": 1500, "Total_Item_Investigations": 3}, nil, "All Databases"},
		{"pr_noheader.tsv", KindReport, "5", "PR", 4, map[string]int64{"Searches_Platform": 6, "Total_Item_Requests": 7}, nil, "no header block"},
		{"jr1_r4.tsv", KindReport, "4", "JR1", 2, map[string]int64{"Total_Item_Requests": 30}, nil, "Total for all journals"},
		{"br1_r4.tsv", KindReport, "4", "BR1", 2, map[string]int64{"Unique_Title_Requests": 3}, nil, "Total for all titles"},
		{"db1_r4.tsv", KindReport, "4", "DB1", 4, map[string]int64{"Searches_Regular": 4, "Searches_Automated": 2, "Total_Item_Investigations": 8}, nil, ""},
		{"pr1_r4.tsv", KindReport, "4", "PR1", 3, map[string]int64{"Searches_Platform": 4, "Searches_Automated": 2, "Total_Item_Investigations": 5}, nil, ""},
		{"tr_j1_r51.xlsx", KindReport, "5.1", "TR_J1", 4, map[string]int64{"Total_Item_Requests": 30, "Unique_Item_Requests": 6}, nil, "Reporting_Period_Total is 7"},
		{"header_only.tsv", KindReport, "5", "TR", 0, nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			doc, recs, err := readFile(t, tt.file, Options{BatchRows: 2})
			if err != nil {
				t.Fatal(err)
			}
			if doc.Kind != tt.kind || doc.Release != tt.release || doc.ReportID != tt.id || doc.Rows != tt.rows {
				t.Errorf("got kind=%s release=%s id=%s rows=%d, want %s %s %s %d", doc.Kind, doc.Release, doc.ReportID, doc.Rows, tt.kind, tt.release, tt.id, tt.rows)
			}
			var n int64
			for _, r := range recs {
				n += r.NumRows()
			}
			if n != doc.Rows {
				t.Errorf("batches hold %d rows, document says %d", n, doc.Rows)
			}
			for k, v := range tt.totals {
				if doc.Totals[k] != v {
					t.Errorf("total %s = %d, want %d (all: %v)", k, doc.Totals[k], v, doc.Totals)
				}
			}
			if len(doc.Totals) != len(tt.totals) {
				t.Errorf("totals = %v, want %v", doc.Totals, tt.totals)
			}
			var codes []int
			for _, e := range doc.Exceptions {
				codes = append(codes, e.Code)
			}
			if !equalInts(codes, tt.excCodes) {
				t.Errorf("exception codes = %v, want %v", codes, tt.excCodes)
			}
			if tt.warning != "" && !strings.Contains(strings.Join(doc.Warnings, "\n"), tt.warning) {
				t.Errorf("no warning with %q in %q", tt.warning, doc.Warnings)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRejects(t *testing.T) {
	tests := []struct{ file, want string }{
		{"release99.json", `release "99" is not supported`},
		{"registry.json", "not a COUNTER document"},
		{"not_counter.txt", "not a COUNTER document"},
	}
	for _, tt := range tests {
		_, _, err := readFile(t, tt.file, Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), tt.file+": ") {
			t.Errorf("%s: err = %v, want %q naming the file", tt.file, err, tt.want)
		}
	}
}

func TestRowValues(t *testing.T) {
	_, recs, err := readFile(t, "r51_ir.json", Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := recs[0]
	col := func(name string) *array.String {
		return rec.Column(rec.Schema().FieldIndices(name)[0]).(*array.String)
	}
	if got := col(schemas.ColParentTitle).Value(0); got != "Book T" {
		t.Errorf("parent title = %q", got)
	}
	if got := col(schemas.ColParentISBN).Value(0); got != "978-0-00-000000-2" {
		t.Errorf("parent isbn = %q", got)
	}
	if got := col(schemas.ColTitle).Value(0); got != "Chapter 1" {
		t.Errorf("title = %q", got)
	}
	if got := col(schemas.ColAuthors).Value(0); got != "A. Author" {
		t.Errorf("authors = %q", got)
	}
	if got := col(schemas.ColParentTitle).Value(2); got != "" {
		t.Errorf("item without parent has parent title %q", got)
	}
}

func TestLimits(t *testing.T) {
	long := "Report_Name\t" + strings.Repeat("x", 300) + "\n"
	wide := "Platform\tMetric_Type" + strings.Repeat("\tx", 50) + "\n"
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	tests := []struct {
		name, in string
		opts     Options
		want     string
	}{
		{"size", strings.Repeat("Platform\tMetric_Type\n", 100), Options{MaxBytes: 100}, "larger than the size limit"},
		{"line", long, Options{MaxLineBytes: 128}, "line 1: longer than 128 bytes"},
		{"columns", wide, Options{MaxColumns: 20}, "more than 20 columns"},
		{"depth", deep, Options{MaxDepth: 10}, "nesting deeper than 10"},
		{"empty", "  \n", Options{}, "empty document"},
		{"bad json", `{"Report_Header": {`, Options{}, "parse json"},
		{"bad xlsx", "PK\x03\x04garbage", Options{}, "parse xlsx"},
	}
	for _, tt := range tests {
		tt.opts.Name = "in"
		_, err := Read(context.Background(), strings.NewReader(tt.in), tt.opts, func(rec arrow.RecordBatch) error { rec.Release(); return nil })
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestMonthHeadings(t *testing.T) {
	tests := map[string]string{
		"Jan-2022": "2022-01", "2022-01": "2022-01", "Jan-22": "2022-01", "22-Jan": "2022-01",
		"4-2011": "2011-04", "Mrz-2022": "2022-03", "Okt-2021": "2021-10", "44743": "2022-07",
		"2022-03-01": "2022-03", "May 2024": "2024-05", "Dez-2020": "2020-12",
		"januar 2025": "2025-01", "2025 mai": "2025-05", "01.2025": "2025-01", "Sept. 2024": "2024-09",
	}
	for in, want := range tests {
		m, ok := ParseMonth(in)
		if !ok || m.String() != want {
			t.Errorf("%q = %v %v, want %s", in, m, ok, want)
		}
	}
	for _, bad := range []string{"Title", "Reporting_Period_Total", "Jal-2022", "13-2022", "12345678"} {
		if m, ok := ParseMonth(bad); ok {
			t.Errorf("%q parsed as %s", bad, m)
		}
	}
}

func TestCounts(t *testing.T) {
	tests := map[string]int64{"": 0, "12": 12, `"1,000"`: 1000, "1 234": 1234, "7.0": 7, " 3 ": 3}
	for in, want := range tests {
		if got, err := parseCount([]byte(in)); err != nil || got != want {
			t.Errorf("%q = %d %v, want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"-1", "abc", "1.5"} {
		if _, err := parseCount([]byte(bad)); err == nil {
			t.Errorf("%q: want error", bad)
		}
	}
}

// bigTSV streams an R5.1 TR of n data rows without ever holding it.
type bigTSV struct {
	n, i int
	buf  bytes.Buffer
}

func (b *bigTSV) Read(p []byte) (int, error) {
	for b.buf.Len() < len(p) && b.i <= b.n {
		if b.i == 0 {
			b.buf.WriteString(string(syntheticTSV(0)))
		} else {
			b.buf.WriteString("Journal of Things\tPublisher\tPlatform\t10.9999/j\t1234-5678\tJournal\t2020\tControlled\tRegular\tTotal_Item_Requests\t78\t1\t2\t3\t4\t5\t6\t7\t8\t9\t10\t11\t12\n")
		}
		b.i++
	}
	if b.buf.Len() == 0 {
		return 0, io.EOF
	}
	return b.buf.Read(p)
}

// TestStreamingBoundedMemory reads a few hundred MB and checks that the
// heap stays near one batch, not the file.
func TestStreamingBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("large input")
	}
	const rows = 2_000_000 // about 170 MB of TSV
	var peak uint64
	var ms runtime.MemStats
	doc, err := Read(context.Background(), &bigTSV{n: rows}, Options{Name: "big"}, func(rec arrow.RecordBatch) error {
		rec.Release()
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Rows != rows*12 {
		t.Errorf("rows = %d, want %d", doc.Rows, rows*12)
	}
	if peak > 200<<20 {
		t.Errorf("heap in use peaked at %d MB", peak>>20)
	}
	t.Logf("peak heap in use %d MB for %d usage rows", peak>>20, doc.Rows)
}

// TestProseIsNotCOUNTER: a text file that merely mentions COUNTER column
// names (a README, a provenance list) is not a report, not an empty one.
func TestProseIsNotCOUNTER(t *testing.T) {
	prose := "# Samples\n\nEvery file here was copied.\nColumns: file, repository, Metric_Type, Reporting_Period_Total\n" +
		"| file | Metric_Type | Reporting_Period_Total |\n|---|---|---|\n| a.tsv | x | y |\n"
	_, err := Read(context.Background(), strings.NewReader(prose), Options{Name: "SOURCES.md"},
		func(rec arrow.RecordBatch) error { rec.Release(); return nil })
	if err == nil || !strings.Contains(err.Error(), "not a COUNTER document") {
		t.Fatalf("err = %v, want not a COUNTER document", err)
	}
}

// A nil emit builds no batches but tells the same about the document:
// the harvest judges responses that way.
func TestNilEmitSameDocument(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(fixtures, "*"))
	if err != nil || len(files) == 0 {
		t.Fatal(files, err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			continue // a directory
		}
		opts := Options{Name: filepath.Base(name), BatchRows: 2}
		want, werr := Read(context.Background(), bytes.NewReader(data), opts, func(rec arrow.RecordBatch) error { rec.Release(); return nil })
		got, gerr := Read(context.Background(), bytes.NewReader(data), opts, nil)
		if fmt.Sprint(gerr) != fmt.Sprint(werr) || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: nil emit gave %+v, %v\nwant %+v, %v", opts.Name, got, gerr, want, werr)
		}
	}
}
