package agreements

import (
	"encoding/csv"
	"os"
	"testing"
)

func TestCountyAt(t *testing.T) {
	tests := []struct {
		c24, month, want string
	}{
		{"31", "2023-12", "30"}, {"32", "2023-12", "30"}, {"33", "2020-01", "30"},
		{"39", "2023-06", "38"}, {"40", "2023-06", "38"},
		{"55", "2023-01", "54"}, {"56", "2023-01", "54"},
		{"32", "2024-01", "32"}, {"40", "2025-03", "40"},
		{"03", "2023-01", "03"}, {"46", "2023-01", "46"}, {"46", "2024-01", "46"},
	}
	for _, tt := range tests {
		if got := CountyAt(tt.c24, mon(tt.month)); got != tt.want {
			t.Errorf("CountyAt(%s, %s) = %s, want %s", tt.c24, tt.month, got, tt.want)
		}
	}
}

func TestCovers(t *testing.T) {
	tests := []struct {
		code, c24, month string
		want             bool
	}{
		{"30", "32", "2023-05", true},  // Viken covered Akershus's municipalities in 2023
		{"30", "32", "2024-05", true},  // and stands for its successors after the split
		{"32", "32", "2023-05", false}, // Akershus did not exist in 2023
		{"32", "32", "2024-05", true},
		{"32", "31", "2024-05", false},
		{"38", "40", "2024-01", true},
		{"40", "39", "2024-01", false},
		{"54", "56", "2023-12", true},
		{"46", "46", "2023-12", true},
		{"46", "03", "2023-12", false},
	}
	for _, tt := range tests {
		if got := Covers(tt.code, tt.c24, mon(tt.month)); got != tt.want {
			t.Errorf("Covers(%s, %s, %s) = %v, want %v", tt.code, tt.c24, tt.month, got, tt.want)
		}
	}
}

// TestCountyAtMatchesReference checks the rule against the reference
// 2023→2024 mapping: every municipality's 2023 county is CountyAt of its
// 2024 county in a 2023 month.
func TestCountyAtMatchesReference(t *testing.T) {
	f, err := os.Open("../internal/reference/data/no_kommune_2023_til_2024.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, r := range recs[1:] {
		c23, c24 := r[col["fylkesnummer_2023"]], r[col["fylkesnummer_2024"]]
		if got := CountyAt(c24, mon("2023-12")); got != c23 {
			t.Errorf("%s %s: CountyAt(%s, 2023-12) = %s, want %s", r[col["kommunenummer_2023"]], r[col["kommunenavn_2023"]], c24, got, c23)
		}
	}
	if len(recs) < 300 {
		t.Errorf("only %d rows in the mapping", len(recs))
	}
}
