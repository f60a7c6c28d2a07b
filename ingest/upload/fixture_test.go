package upload

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

var update = flag.Bool("update", false, "rewrite generated fixtures in testdata/vendor-files")

const vendorFiles = "../../testdata/vendor-files"

// TestGenerateFilmFixture writes filmstrom-2025q1.xlsx with -update. The
// file is committed; this is how it was made.
func TestGenerateFilmFixture(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate")
	}
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Visninger"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		t.Fatal(err)
	}
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 17}) // mmm-yy
	if err != nil {
		t.Fatal(err)
	}
	set := func(cell string, v any) {
		if err := f.SetCellValue(sheet, cell, v); err != nil {
			t.Fatal(err)
		}
	}
	set("A1", "Filmstrøm – visninger per tittel, 1. kvartal 2025")
	header := []any{"ISIL", "Bibliotek", "Film-ID", "Tittel", "Måned", "Visninger"}
	if err := f.SetSheetRow(sheet, "A3", &header); err != nil {
		t.Fatal(err)
	}
	libs := []struct{ isil, name string }{
		{"NO-2120100", "Bergen demobibliotek"},
		{"NO-2080600", "Skien demobibliotek"},
		{"NO-3060201", "Drammen demo videregående skole"},
	}
	films := []struct{ id, title string }{
		{"FS-0193", "Kon-Tiki"}, {"FS-0457", "Trolljegeren"}, {"FS-1022", "Verdens verste menneske"},
	}
	row, total := 4, 0
	for li, lib := range libs {
		for fi, film := range films {
			for m := 1; m <= 3; m++ {
				views := (li+1)*37 + (fi+1)*11 + m*5
				if li == 2 && fi == 1 && m == 2 {
					views = 0 // a month nobody watched it
				}
				total += views
				r := []any{lib.isil, lib.name, film.id, film.title, time.Date(2025, time.Month(m), 1, 0, 0, 0, 0, time.UTC), views}
				cell, _ := excelize.CoordinatesToCellName(1, row)
				if err := f.SetSheetRow(sheet, cell, &r); err != nil {
					t.Fatal(err)
				}
				dcell, _ := excelize.CoordinatesToCellName(5, row)
				if err := f.SetCellStyle(sheet, dcell, dcell, dateStyle); err != nil {
					t.Fatal(err)
				}
				row++
			}
		}
	}
	row++ // a blank row before the sum, as people lay them out
	sum := []any{"Sum", "", "", "", "", total}
	cell, _ := excelize.CoordinatesToCellName(1, row)
	if err := f.SetSheetRow(sheet, cell, &sum); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(vendorFiles, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveAs(filepath.Join(vendorFiles, "filmstrom-2025q1.xlsx")); err != nil {
		t.Fatal(err)
	}
}
