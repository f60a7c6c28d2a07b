package reference

import "testing"

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
