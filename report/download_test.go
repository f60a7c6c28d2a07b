package report

import (
	"bytes"
	"encoding/csv"
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
	{"=cmd|' /C calc'!A0", "5.1", "Total_Item_Requests", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), 1200, 0.5, 1200.5},
	{"=cmd|' /C calc'!A0", "5.1", "Total_Item_Requests", time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), 34, 0, 34},
	{"leksikon", "5.1", "Unique_Item_Requests", time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), 7, 0, 7},
	{"gammel", "4", "Total_Item_Requests", time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), 99, 0, 99},
}

func TestCSVCannotRunFormulas(t *testing.T) {
	b, err := usageCSV(sampleUsage)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(sampleUsage)+1 {
		t.Fatalf("%d records", len(recs))
	}
	for _, r := range recs[1:] {
		for _, c := range r {
			if c != "" && bytes.ContainsRune([]byte("=+@"), rune(c[0])) {
				t.Errorf("cell %q can run as a formula", c)
			}
		}
	}
}

func TestXLSXNumbersAreNumbers(t *testing.T) {
	b, err := usageXLSX(catalog["nb"], sampleUsage)
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	typ, err := f.GetCellType("Bruk", "E2")
	if err != nil {
		t.Fatal(err)
	}
	if typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
		t.Errorf("count cell type = %v, want a number", typ)
	}
	if v, _ := f.GetCellValue("Bruk", "E2"); v != "1200" {
		t.Errorf("E2 = %q", v)
	}
	if v, _ := f.GetCellFormula("Bruk", "B2"); v != "" {
		t.Errorf("B2 has formula %q", v)
	}
	if v, _ := f.GetCellValue("Bruk", "B2"); v[0] != '\'' {
		t.Errorf("B2 = %q, want it neutralised", v)
	}
}
