package reference

import (
	"strings"
	"testing"
)

func TestMunicipalities(t *testing.T) {
	ms, err := Municipalities()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 357 {
		t.Errorf("%d municipalities, want 357", len(ms))
	}
	total := 0
	for _, m := range ms {
		total += m.Population
	}
	if total != 5550203 {
		t.Errorf("population %d, want 5550203", total)
	}
	cases := []struct{ number, name, county string }{
		{"0301", "Oslo", "03"},
		{"5501", "Tromsø", "55"},
		{"1580", "Haram", "15"},
	}
	for _, c := range cases {
		m := ms[c.number]
		if m.Name != c.name || m.County != c.county {
			t.Errorf("%s = %+v, want %s in county %s", c.number, m, c.name, c.county)
		}
	}
}

func TestSuccessors(t *testing.T) {
	ss, err := Successors()
	if err != nil {
		t.Fatal(err)
	}
	from := map[string]bool{}
	to := map[string][]string{}
	for _, s := range ss {
		from[s.From] = true
		to[s.From] = append(to[s.From], s.To)
	}
	if len(from) != 356 {
		t.Errorf("%d municipalities of 2023, want 356", len(from))
	}
	cases := []struct {
		from string
		want []string
	}{
		{"3005", []string{"3301"}},         // Drammen, Viken → Buskerud
		{"5401", []string{"5501"}},         // Tromsø
		{"3026", []string{"3226"}},         // Aurskog-Høland, missing upstream
		{"1507", []string{"1508", "1580"}}, // Ålesund split into Ålesund and Haram
		{"0301", []string{"0301"}},
	}
	for _, c := range cases {
		if got := to[c.from]; strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s → %v, want %v", c.from, got, c.want)
		}
	}
}

func TestPopulationYears(t *testing.T) {
	ps, err := PopulationYears()
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 357 || ps[0].Year != 2025 || ps[0].Source == "" {
		t.Errorf("population: %d rows, first %+v", len(ps), ps[0])
	}
}
