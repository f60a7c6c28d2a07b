package agreements

import (
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
)

// Money is an amount in øre (1/100 NOK). Figures are rounded to Money only
// at the end; arithmetic in between is exact (big.Rat).
type Money int64

// String formats m in Norwegian: "120 000,00".
func (m Money) String() string {
	neg := m < 0
	if neg {
		m = -m
	}
	s := groupDigits(strconv.FormatInt(int64(m)/100, 10)) + fmt.Sprintf(",%02d", int64(m)%100)
	if neg {
		return "-" + s
	}
	return s
}

// formatInt writes n with a space between thousands: "48 213".
func formatInt(n int64) string {
	if n < 0 {
		return "-" + groupDigits(strconv.FormatInt(-n, 10))
	}
	return groupDigits(strconv.FormatInt(n, 10))
}

func groupDigits(s string) string {
	var b strings.Builder
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// parseDecimal reads a plain decimal ("120000", "120000.50", "0.25") into an
// exact fraction. Floats are never involved, so 0.1 stays one tenth.
func parseDecimal(s string) (*big.Rat, error) {
	t := strings.ReplaceAll(strings.TrimSpace(s), "_", "")
	if t == "" || strings.ContainsAny(t, "eE/") {
		return nil, fmt.Errorf("%q is not a plain decimal number", s)
	}
	r, ok := new(big.Rat).SetString(t)
	if !ok {
		return nil, fmt.Errorf("%q is not a decimal number", s)
	}
	return r, nil
}

// toMoney rounds an amount in NOK to whole øre, halves away from zero.
func toMoney(nok *big.Rat) Money {
	return Money(roundRat(new(big.Rat).Mul(nok, big.NewRat(100, 1))))
}

// roundRat rounds r to the nearest integer, halves away from zero.
func roundRat(r *big.Rat) int64 {
	num, den := new(big.Int).Set(r.Num()), r.Denom()
	neg := num.Sign() < 0
	num.Abs(num)
	q, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	if rem.Mul(rem, big.NewInt(2)).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if neg {
		q.Neg(q)
	}
	return q.Int64()
}

// ratNOK formats an exact amount in NOK rounded to øre: "14 285,71".
func ratNOK(r *big.Rat) string { return toMoney(r).String() }

// ratDecimal formats r with the given number of decimals and a decimal comma: "0,3".
func ratDecimal(r *big.Rat, decimals int) string {
	s := r.FloatString(decimals)
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = groupDigits(strings.TrimPrefix(intPart, "-"))
	if neg {
		intPart = "-" + intPart
	}
	if frac == "" {
		return intPart
	}
	return intPart + "," + frac
}

// ratShort formats a fraction as a short decimal without trailing zeros: 0,3; 0,25; 1.
func ratShort(r *big.Rat) string {
	s := ratDecimal(r, 6)
	if strings.Contains(s, ",") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ",")
	}
	return s
}

// percent formats a share as a percentage with one decimal: "42,7 %".
func percent(r *big.Rat) string {
	return ratDecimal(new(big.Rat).Mul(r, big.NewRat(100, 1)), 1) + " %"
}

// splitExact rounds exact amounts (NOK) to øre so that they add up to the
// rounded total of their sum: each gets its amount rounded down, and the øre
// left over go one each to the largest remainders (ties to the earlier).
func splitExact(amounts []*big.Rat) []Money {
	total := new(big.Rat)
	for _, a := range amounts {
		total.Add(total, a)
	}
	want := toMoney(total)
	out := make([]Money, len(amounts))
	type rest struct {
		i   int
		rem *big.Rat
	}
	rests := make([]rest, len(amounts))
	var got Money
	for i, a := range amounts {
		ore := new(big.Rat).Mul(a, big.NewRat(100, 1))
		floor := new(big.Int).Div(ore.Num(), ore.Denom()) // Euclidean: floor for positive denominators
		out[i] = Money(floor.Int64())
		got += out[i]
		rests[i] = rest{i, new(big.Rat).Sub(ore, new(big.Rat).SetInt(floor))}
	}
	sort.SliceStable(rests, func(a, b int) bool { return rests[a].rem.Cmp(rests[b].rem) > 0 })
	for k := 0; got < want && k < len(rests); k++ {
		out[rests[k].i]++
		got++
	}
	return out
}

// Round rounds an exact amount in NOK to øre.
func Round(nok *big.Rat) Money { return toMoney(nok) }

// Quotient is a figure per use or per inhabitant: an exact amount in NOK,
// or the reason there is none ("no data", "no uses", "no inhabitants").
type Quotient struct {
	Value  *big.Rat // NOK; nil when there is no value
	Reason string   // set when there is no value
}

// OK reports whether the quotient has a value.
func (q Quotient) OK() bool { return q.Reason == "" && q.Value != nil }

// String writes the quotient as every output shows it (see quotientText).
func (q Quotient) String() string {
	if !q.OK() {
		if q.Reason == "" {
			return "no data"
		}
		return q.Reason
	}
	return quotientText(q.Value) + " NOK"
}

// quotientText is the one rounding rule for figures per use and per
// inhabitant: from 1 NOK up, whole øre ("2,49"); below 1 NOK, two
// significant digits and at least two decimals ("0,0038", "0,12"), so that
// a small cost per inhabitant never prints as "0,00". Only an exact zero
// does. Costs themselves stay in whole øre (Money).
func quotientText(nok *big.Rat) string {
	abs := new(big.Rat).Abs(nok)
	if abs.Sign() == 0 || abs.Cmp(big.NewRat(199, 200)) >= 0 { // 0,995 and up round to øre of at least 1,00
		return toMoney(nok).String()
	}
	// The number of decimals that shows two significant digits: the
	// first d with |x| × 10^d ≥ 10. Capped, so that no input loops long;
	// below 10^-13 NOK nothing is meant.
	d := 2
	for ten := big.NewRat(10, 1); d < 14; d++ {
		scaled := new(big.Rat).Mul(abs, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d)), nil)))
		if scaled.Cmp(ten) >= 0 {
			break
		}
	}
	return ratDecimal(nok, d)
}
