package counter

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// isSummary's shortcut (notSummary) never changes its answer: the same as
// norm and the map alone, over summary names dressed as vendors dress
// them and over random strings of the bytes and runes that matter (the
// Kelvin sign lowercases to an ASCII k, a BOM and a no-break space are
// dropped by norm).
func TestIsSummaryShortcutChangesNothing(t *testing.T) {
	slow := func(s string) bool { return len(s) < 40 && summaryNames[strings.ReplaceAll(norm(s), "/", "")] }
	pieces := []string{"Total", "total", "TOTAL", " ", "_", "-", ":", "\t", "/", "for", "All", "all", "Journals", "Platforms",
		"s", "K", "\u212a", "\ufeff", "\u00a0", "1", "0", ".", ",", "é", "İ", "grand", "Titles", "\xff", "Databases", "x"}
	var cases []string
	for name := range summaryNames {
		cases = append(cases, name, strings.ToUpper(name), " "+name+" ", "\ufeff"+name, name+"1", name+".")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 200_000 {
		var b strings.Builder
		for range 1 + rng.IntN(6) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		cases = append(cases, b.String())
	}
	summaries := 0
	for _, s := range cases {
		got, want := isSummary(s), slow(s)
		if got != want {
			t.Fatalf("isSummary(%q) = %v, norm and the map say %v", s, got, want)
		}
		if want {
			summaries++
		}
	}
	if summaries < len(summaryNames) {
		t.Fatalf("only %d of the cases are summary names: the test would not see a wrong shortcut", summaries)
	}
}
