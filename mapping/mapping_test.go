package mapping

import (
	"errors"
	"strings"
	"testing"
)

const goodMapping = `vendor: demo
platform: Demo
library:
  column: Bibnr
  by: bibnr
month:
  column: Måned
metrics:
  - column: Visninger
    metric: Total_Item_Requests
`

func TestParseMappingErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // substrings of the error, e.g. the key and line
	}{
		{"unknown top key", goodMapping + "sheeet: Ark1\n", []string{"line 11", "sheeet"}},
		{"unknown nested key", strings.Replace(goodMapping, "  by: bibnr", "  by: bibnr\n  colum: x", 1), []string{"line 6", "colum"}},
		{"bad by", strings.Replace(goodMapping, "by: bibnr", "by: kommune", 1), []string{"m.yaml:5", "library.by", "kommune"}},
		{"table needed", strings.Replace(goodMapping, "by: bibnr", "by: account", 1), []string{"library.table"}},
		{"bad table entry", strings.Replace(goodMapping, "by: bibnr", "by: name\n  table:\n    Oslo: \"123\"", 1), []string{"m.yaml:7", "library.table", "Oslo", "7 digits"}},
		{"not a metric", strings.Replace(goodMapping, "Total_Item_Requests", "Views", 1), []string{"m.yaml:8", "metrics", "Views"}},
		{"no month", strings.Replace(goodMapping, "  column: Måned\n", "  year: 2025\n", 1), []string{"month"}},
		{"unpivot with metrics", strings.Replace(goodMapping, "  column: Måned\n", "  unpivot: true\n  year: 2025\n", 1), []string{"metrics"}},
		{"bad regexp", goodMapping + "skip_rows_matching: '(['\n", []string{"m.yaml:11", "skip_rows_matching"}},
		{"bad numbers", goodMapping + "numbers: fr\n", []string{"numbers", "fr"}},
		{"bad vendor", strings.Replace(goodMapping, "vendor: demo", "vendor: ../etc", 1), []string{"m.yaml:1", "vendor"}},
		{"reserved report", goodMapping + "report: files\n", []string{"report"}},
		{"unknown field", goodMapping + "columns:\n  colour: Farge\n", []string{"m.yaml:11", "columns", "colour"}},
		{"column and constant", goodMapping + "columns:\n  title: Tittel\nconstants:\n  title: X\n", []string{"constants", "title"}},
		{"wrong type", strings.Replace(goodMapping, "platform: Demo", "platform: [a, b]", 1), []string{"line 2"}},
		{"not yaml", "vendor: [", []string{"m.yaml"}},
		{"empty", "", []string{"empty mapping"}},
		{"header row", goodMapping + "header_row: -1\n", []string{"header_row"}},
		{"data before header", goodMapping + "header_row: 4\ndata_start: 2\n", []string{"data_start"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.yaml), "m.yaml")
			if err == nil {
				t.Fatal("no error")
			}
			var me *Error
			if !errors.As(err, &me) {
				t.Errorf("error %T is not a *Error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestParseMappingDefaults(t *testing.T) {
	m, err := Parse(strings.NewReader(goodMapping), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if m.Report != "VENDOR" || m.HeaderRow != 1 || m.DataStart != 2 || m.Numbers != NumbersAuto {
		t.Errorf("defaults: report %q header %d data %d numbers %q", m.Report, m.HeaderRow, m.DataStart, m.Numbers)
	}
}

func TestLoadMappingsFixtures(t *testing.T) {
	ms, err := LoadDir("../testdata/mappings")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"avisleser", "filmstrom", "leksikon"} {
		if ms[v] == nil {
			t.Errorf("no mapping for %s", v)
		}
	}
}
