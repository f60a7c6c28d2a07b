package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// What a librarian and an analyst read on each page: its coverage, a
// county without data in one sentence, an agreement over time and beside
// the earlier one, downloads of its figures.
func TestPagesSayWhatTheyCover(t *testing.T) {
	site := buildHostileSite(t, "nb")
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(site, filepath.FromSlash(p)))
		if err != nil {
			t.Fatal(err)
		}
		return visibleText(string(b))
	}
	cases := []struct {
		page      string
		want, not []string
	}{
		{"bibliotek/2030100.html", []string{"Avisarkivet: jan. 2024–des. 2025 (24 måneder)", "mangler jan. 2026: ikke klar hos leverandøren ennå",
			"sist hentet 5. jan. 2026 kl. 03.14 (CET)", "Biblioteket betjener 717\u00a0710 innbyggere (2025)."}, nil},
		{"bibliotek/2190200.html", []string{"mangler des. 2025: tilgangen til leverandøren virker ikke"}, nil},
		{"fylke/11.html", []string{"Det finnes ingen bruksdata for Rogaland ennå.", "Ingen måneder er hentet ennå."},
			[]string{"Last ned", "Visninger og nedlastinger per måned", "Innbyggere"}},
		{"index.html", []string{"Rogaland – ingen data ennå"}, []string{"Troms – ingen data"}},
		{"nasjonalt.html", []string{"Innbyggere i kommunene som deltar", "Bibliotekene sammenlignet (2025)", "Tromsø demobibliotek"}, nil},
		{"avtale/avis-2025.html", []string{"Kostnad per bruk per måned", "Kostnad per bruk per år", "Samme tjeneste i tidligere avtaler",
			"Avis 2024", "100\u00a0000,00\u00a0kr", "Kostnad per bruk = kostnad ÷ bruk = 120\u00a0000,00\u00a0kr ÷ 2\u00a0580 = 46,51\u00a0kr.", "Troms",
			"CSV for regneark"}, []string{"county 55", "Fylke 55", "NOK"}},
	}
	for _, c := range cases {
		checkText(t, c.page, read(c.page), c.want, c.not) // comparison_test.go
	}
	if _, err := os.Stat(filepath.Join(site, "fylke", "fylke-11-bruk.csv")); err == nil {
		t.Error("a county without data has a download")
	}
	b, err := os.ReadFile(filepath.Join(site, "avtale", "avis-2025-tall.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, b, ';')
	if recs[0][0] != "Periode" || recs[1][0] != "jan. 2025" || recs[1][1] != "10000" || !strings.Contains(recs[1][3], ",") {
		t.Errorf("agreement figures: %q", recs[:2])
	}
}
