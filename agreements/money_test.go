package agreements

import (
	"math/big"
	"testing"
)

// TestQuotientText: from 1 NOK up whole øre; below, two significant
// digits, so that NOK 0.0038 per inhabitant never prints "0,00".
func TestQuotientText(t *testing.T) {
	for _, tt := range []struct {
		nok  *big.Rat
		want string
	}{
		{big.NewRat(38, 10000), "0,0038 NOK"},
		{big.NewRat(258, 67866), "0,0038 NOK"}, // 258 NOK over old Ålesund's 67 866 inhabitants
		{big.NewRat(12, 100), "0,12 NOK"},
		{big.NewRat(1, 2), "0,50 NOK"},
		{big.NewRat(994, 1000), "0,99 NOK"},
		{big.NewRat(995, 1000), "1,00 NOK"},
		{big.NewRat(95, 10000), "0,0095 NOK"},
		{big.NewRat(999, 100000), "0,0100 NOK"},
		{big.NewRat(249, 100), "2,49 NOK"},
		{big.NewRat(120000, 1), "120 000,00 NOK"},
		{big.NewRat(-38, 10000), "-0,0038 NOK"},
		{big.NewRat(1, 1000000000000000), "0,00000000000000 NOK"}, // below the cap: decimals stop at 14
		{new(big.Rat), "0,00 NOK"},
	} {
		if got := (Quotient{Value: tt.nok}).String(); got != tt.want {
			t.Errorf("%s NOK = %q, want %q", tt.nok.FloatString(8), got, tt.want)
		}
	}
	if got := (Quotient{Reason: "no uses"}).String(); got != "no uses" {
		t.Errorf("reason = %q", got)
	}
	if got := (Quotient{}).String(); got != "no data" {
		t.Errorf("empty quotient = %q, want no data", got)
	}
}
