package report

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

func TestSafeCell(t *testing.T) {
	cases := map[string]string{
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")",
		"+1":                "'+1",
		"-2+3":              "'-2+3",
		"@SUM(A1)":          "'@SUM(A1)",
		"\t=1":              "'\t=1",
		"＝HYPERLINK(\"x\")": "'＝HYPERLINK(\"x\")",
		"＋1":                "'＋1",
		"－2":                "'－2",
		"＠SUM(A1)":          "'＠SUM(A1)",
		"Aftenposten":       "Aftenposten",
		"":                  "",
	}
	for in, want := range cases {
		if got := safeCell(in); got != want {
			t.Errorf("safeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

var sampleUsage = []usageRow{
	{Platform: "=cmd|' /C calc'!A0", Release: "5.1", Metric: "Total_Item_Requests", Month: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Count: 1200, Pooled: 0.5, Total: 1200.5},
	{Platform: "=cmd|' /C calc'!A0", Release: "5.1", Metric: "Total_Item_Requests", Month: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), Count: 34, Total: 34},
	{Platform: "leksikon", Release: "5.1", Metric: "Unique_Item_Requests", Month: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), Count: 7, Total: 7},
	{Platform: "gammel", Release: "4", Metric: "Total_Item_Requests", Month: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), Count: 99, Total: 99},
}

// sampleSheet is sampleUsage as the library "=Oslo" (a name that tries to be a formula).
func sampleSheet() sheet {
	var rows []libraryUsage
	for _, r := range sampleUsage {
		rows = append(rows, libraryUsage{"2030100", "=Oslo", r})
	}
	names := map[string]string{"leksikon": "Store norske leksikon"}
	return sheet{rows: rows, platform: func(id string) string { return cmpOr(names[id], id) }}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func readCSV(t *testing.T, b []byte, comma rune) [][]string {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("\ufeff")) {
		t.Error("no BOM: Excel would read the file as ANSI")
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\ufeff"))))
	r.Comma = comma
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// Norwegian Excel splits on ";" and reads "1200,5" as a number; machines
// get "," and "." and COUNTER's names.
func TestCSVForSpreadsheetsAndMachines(t *testing.T) {
	cases := []struct {
		lang    Lang
		machine bool
		comma   rune
		header  string
		pooled  string
		metric  string
	}{
		{"nb", false, ';', "Biblioteknummer", "0,5", "Visninger og nedlastinger"},
		{"nn", false, ';', "Biblioteknummer", "0,5", "Visingar og nedlastingar"},
		{"en", false, ',', "Library number", "0.5", "Views and downloads"},
		{"nb", true, ',', "Library_ID", "0.5", "Total_Item_Requests"},
		{"en", true, ',', "Library_ID", "0.5", "Total_Item_Requests"},
	}
	for _, c := range cases {
		b, err := sampleSheet().csv(catalog[c.lang], c.machine)
		if err != nil {
			t.Fatal(err)
		}
		recs := readCSV(t, b, c.comma)
		if len(recs) != len(sampleUsage)+1 || len(recs[0]) != 9 {
			t.Fatalf("%s machine=%t: %d records of %d cells:\n%s", c.lang, c.machine, len(recs), len(recs[0]), b)
		}
		if recs[0][0] != c.header || recs[1][7] != c.pooled || recs[1][5] != c.metric || recs[1][0] != "2030100" {
			t.Errorf("%s machine=%t: header %q, row %q", c.lang, c.machine, recs[0], recs[1])
		}
	}
}

func TestCSVCannotRunFormulas(t *testing.T) {
	for _, machine := range []bool{false, true} {
		b, err := sampleSheet().csv(catalog["nb"], machine)
		if err != nil {
			t.Fatal(err)
		}
		comma := ';'
		if machine {
			comma = ','
		}
		for _, r := range readCSV(t, b, comma)[1:] {
			for _, c := range r {
				if c != "" && strings.ContainsRune("=+@", rune(c[0])) {
					t.Errorf("cell %q can run as a formula", c)
				}
			}
		}
	}
}

func TestXLSX(t *testing.T) {
	b, err := sampleSheet().xlsx(catalog["nb"])
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const sh = "Bruk"
	if v, _ := f.GetCellValue(sh, "G2"); v != "1200" {
		t.Errorf("G2 = %q, want the count 1200", v)
	}
	if typ, _ := f.GetCellType(sh, "G2"); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
		t.Errorf("count cell type = %v, want a number", typ)
	}
	if v, _ := f.GetCellFormula(sh, "B2"); v != "" {
		t.Errorf("B2 has formula %q", v)
	}
	if v, _ := f.GetCellValue(sh, "B2"); v != "'=Oslo" {
		t.Errorf("B2 = %q, want it neutralised", v)
	}
	if v, _ := f.GetCellValue(sh, "A1"); v != "Biblioteknummer" {
		t.Errorf("A1 = %q, want the header in Norwegian", v)
	}
	// The month is a date (a serial number formatted), not the text "2025-01".
	if v, _ := f.GetCellValue(sh, "C2", excelize.Options{RawCellValue: true}); v != "45658" {
		t.Errorf("C2 raw = %q, want the date serial of 2025-01-01", v)
	}
	if v, _ := f.GetCellValue(sh, "C2"); v != "2025-01" {
		t.Errorf("C2 shown = %q, want 2025-01", v)
	}
	panes, err := f.GetPanes(sh)
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("header not frozen: %+v %v", panes, err)
	}
	if w, _ := f.GetColWidth(sh, "B"); w < 20 {
		t.Errorf("library column width %v", w)
	}
	if tables, err := f.GetTables(sh); err != nil || len(tables) != 1 || tables[0].Range != "A1:I5" {
		t.Errorf("no filter over the rows: %+v %v", tables, err)
	}
}

// The CSV downloads are written by hand as encoding/csv writes them: the
// same bytes for any text, in every language and for machines.
func TestCSVAsEncodingCSV(t *testing.T) {
	parts := []string{"", "a", " ", "\u00a0", "\u3000", `"`, ";", ",", "\n", "\r", "\t", `\.`, "=", "+", "ø", "1.5", "x y"}
	r := rand.New(rand.NewPCG(3, 4))
	text := func() string {
		var b strings.Builder
		for range r.IntN(4) {
			b.WriteString(parts[r.IntN(len(parts))])
		}
		return b.String()
	}
	var sh sheet
	labels := map[string]string{}
	sh.platform = func(id string) string { // one label per platform, as a site has
		if labels[id] == "" {
			labels[id] = text() + "p"
		}
		return labels[id]
	}
	for range 500 {
		sh.rows = append(sh.rows, libraryUsage{ID: text(), Name: text(), usageRow: usageRow{Platform: text(), Release: text(), Metric: text(),
			Month: time.Date(2020+r.IntN(6), time.Month(1+r.IntN(12)), 1, 0, 0, 0, 0, time.UTC), Count: r.Int64N(1e6) - 1000,
			Pooled: r.Float64() * 100, Total: float64(r.IntN(1000))}})
	}
	for lang, m := range catalog {
		for _, machine := range []bool{false, true} {
			got, err := sh.csv(m, machine)
			if err != nil {
				t.Fatal(err)
			}
			if want := referenceCSV(t, sh, m, machine); !bytes.Equal(got, want) {
				t.Errorf("%s machine=%v: CSV differs from encoding/csv's", lang, machine)
			}
		}
	}
}

// referenceCSV is the CSV download as encoding/csv writes it.
func referenceCSV(t *testing.T, sh sheet, m messages, machine bool) []byte {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	header, num := m.sheetHeader(), func(v float64) string { return strings.Replace(strconv.FormatFloat(v, 'f', -1, 64), ".", m.Decimal, 1) }
	if m.Decimal == "," {
		w.Comma = ';'
	}
	if machine {
		w.Comma, header, num = ',', machineHeader, func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	}
	if err := w.Write(header); err != nil {
		t.Fatal(err)
	}
	for _, r := range sh.rows {
		platform, metric := r.Platform, r.Metric
		if !machine {
			platform, metric = sh.platform(r.Platform), m.metric(r.Metric)
		}
		if err := w.Write([]string{r.ID, safeCell(r.Name), r.Month.Format("2006-01"), safeCell(platform), safeCell(r.Release),
			safeCell(metric), strconv.FormatInt(r.Count, 10), num(r.Pooled), num(r.Total)}); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	return buf.Bytes()
}

// A library's rows are written once per build and copied into every
// download that holds them: the national, a county's and the library's
// own file are the same bytes as written row by row, whichever file
// made the rows first.
func TestCSVFragmentsAsWhole(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var all []libraryUsage
	var runs []sheetRun
	for lib := range 6 {
		id, name := strconv.Itoa(2000000+lib), "Bibliotek; \"nr\" "+strconv.Itoa(lib)
		n := 1 + r.IntN(5)
		for range n {
			all = append(all, libraryUsage{ID: id, Name: name, usageRow: usageRow{Platform: "p" + strconv.Itoa(r.IntN(3)), Release: "5.1",
				Metric: "Total_Item_Requests", Month: time.Date(2025, time.Month(1+r.IntN(12)), 1, 0, 0, 0, 0, time.UTC),
				Count: r.Int64N(1000), Pooled: r.Float64(), Total: r.Float64() * 1000}})
		}
		runs = append(runs, sheetRun{key: id + "\x00" + name, n: n})
	}
	unattributed := libraryUsage{Name: "Ikke fordelt", usageRow: usageRow{Platform: "p0", Metric: "Total_Item_Requests",
		Month: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Count: 7, Total: 7}}
	platform := func(id string) string { return "Plattform " + id }
	start := func(i int) int { // where run i's rows begin
		n := 0
		for _, run := range runs[:i] {
			n += run.n
		}
		return n
	}
	scopes := []struct {
		name string
		rows []libraryUsage
		runs []sheetRun
	}{
		{"library", all[start(2):start(3)], runs[2:3]},
		{"county", all[start(1):start(4)], runs[1:4]},
		{"nation", append(slices.Clone(all), unattributed), runs},
	}
	uses := map[string]int{}
	for i, run := range runs {
		uses[run.key] = 1 + i%2 // let go after one or two asks, then made again
	}
	for lang, m := range catalog {
		frags := newFragments(uses)
		for _, machine := range []bool{false, true} {
			for _, sc := range scopes {
				want, err := sheet{rows: sc.rows, platform: platform}.csv(m, machine)
				if err != nil {
					t.Fatal(err)
				}
				got, err := sheet{rows: sc.rows, platform: platform, runs: sc.runs, frags: frags}.csv(m, machine)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s %s machine=%v: the rows copied differ from the rows written:\n%s\nwant\n%s", lang, sc.name, machine, got, want)
				}
			}
		}
	}
}

// The usage workbook's rows are inline text without cell references, a
// library's compressed once and joined into every workbook that holds
// them: a spreadsheet reads the same cells as from the workbook of shared
// strings and references written row by row before, and the joined
// workbook is the same bytes as one made without fragments.
func TestXLSXRowsAsBefore(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	texts := []string{"", "a", "=x", "+1", "ø", "<&>\"'", "Bibliotek 1", "  b ", "\x01c"}
	var sh sheet
	sh.platform = func(id string) string { return "-" + id }
	for lib := range 20 {
		id, name := strconv.Itoa(2000000+lib), texts[r.IntN(len(texts))]
		n := 1 + r.IntN(30)
		for range n {
			sh.rows = append(sh.rows, libraryUsage{ID: id, Name: name, usageRow: usageRow{
				Platform: texts[r.IntN(len(texts))], Release: texts[r.IntN(len(texts))], Metric: []string{"Total_Item_Requests", "x"}[r.IntN(2)],
				Month: time.Date(2020+r.IntN(6), time.Month(1+r.IntN(12)), 1, 0, 0, 0, 0, time.UTC), Count: r.Int64N(1e6) - 1000,
				Pooled: []float64{r.Float64(), math.NaN()}[r.IntN(2)], Total: float64(r.IntN(1000))}})
		}
		sh.runs = append(sh.runs, sheetRun{key: id + "\x00" + name, n: n})
	}
	sh.rows = append(sh.rows, libraryUsage{Name: "Ikke fordelt", usageRow: usageRow{Platform: "p", Metric: "x", Count: 3, Total: 3}})
	for lang, m := range catalog {
		want, err := sh.xlsx(m) // no fragments: every library's rows made here
		if err != nil {
			t.Fatal(err)
		}
		joined := sh
		joined.frags = newFragments(nil)
		county := joined // a part of the rows first, so that the whole finds some made
		county.rows, county.runs = sh.rows[sh.runs[0].n:sh.runs[0].n+sh.runs[1].n], sh.runs[1:2]
		if _, err := county.xlsx(m); err != nil {
			t.Fatal(err)
		}
		got, err := joined.xlsx(m)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the joined workbook differs from the one made without fragments", lang)
		}
		var before bytes.Buffer
		x, err := newXLSXSheet(&before, m.Uses, m.sheetHeader(), []float64{16, 32, 10, 28, 10, 36, 12, 14, 12})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range sh.rows {
			x.Row(r.ID, safeCell(r.Name), r.Month, safeCell(sh.platform(r.Platform)), safeCell(r.Release),
				safeCell(m.metric(r.Metric)), r.Count, r.Pooled, r.Total)
		}
		if err := x.Close(); err != nil {
			t.Fatal(err)
		}
		gotCells, wantCells := xlsxCells(t, got), xlsxCells(t, before.Bytes())
		if !slices.EqualFunc(gotCells, wantCells, slices.Equal) {
			t.Errorf("%s: the workbook's cells differ from before:\n%q\nwant\n%q", lang, gotCells[:3], wantCells[:3])
		}
	}
}

// xlsxCells is every row's raw cell values, as a spreadsheet reads them
// (archive/zip checks each part's CRC as it is read).
func xlsxCells(t *testing.T, b []byte) [][]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err == nil {
			_, err = io.Copy(io.Discard, rc)
		}
		if err != nil {
			t.Fatalf("%s: %v", zf.Name, err)
		}
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetName(0), excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
