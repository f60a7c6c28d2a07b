package report

import (
	"math"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the pages are stamped in Europe/Oslo also where the system has no zone files

	"github.com/bibliotek24/bibstat/agreements"
)

// Lang is a report language: "nb" (Bokmål, the default), "nn" or "en".
type Lang string

// oslo is the zone every time on the site is shown in, with its name.
var oslo = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		return time.FixedZone("CET", 3600) // unreachable with time/tzdata embedded
	}
	return loc
}()

// formatInt writes n with the language's thousands separator: "1 234 567".
func (m messages) formatInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var out strings.Builder
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out.WriteString(m.Thousands)
		}
		out.WriteByte(s[i])
	}
	if neg {
		return "−" + out.String()
	}
	return out.String()
}

// formatNumber writes a mart figure, which may hold a pooled fraction, as a whole number.
func (m messages) formatNumber(v float64) string { return m.formatInt(int64(math.Round(v))) }

// formatDecimal writes v with one decimal: "1 234,5".
func (m messages) formatDecimal(v float64) string { return m.formatFixed(v, 1) }

// formatFixed writes v with the given number of decimals (1 or 2).
func (m messages) formatFixed(v float64, decimals int) string {
	scale := math.Pow10(decimals)
	units := int64(math.Round(v * scale))
	sign := ""
	if units < 0 {
		sign, units = "−", -units
	}
	frac := strconv.FormatInt(units%int64(scale)+int64(scale), 10)[1:]
	return sign + m.formatInt(units/int64(scale)) + m.Decimal + frac
}

// formatPercent writes a change in percent with its sign: "+12,3 %".
func (m messages) formatPercent(v float64) string {
	s := m.formatDecimal(v)
	if v >= 0 {
		s = "+" + s
	}
	return s + m.PercentSign
}

// formatMonth writes a month as "jan. 2025".
func (m messages) formatMonth(t time.Time) string {
	return m.Months[t.Month()-1] + " " + strconv.Itoa(t.Year())
}

// formatMoney writes an amount in the language's way: "120 000,00 kr" or "NOK 120,000.00".
func (m messages) formatMoney(v agreements.Money) string {
	n := int64(v)
	sign := ""
	if n < 0 {
		sign, n = "−", -n
	}
	s := sign + m.formatInt(n/100) + m.Decimal + strconv.FormatInt(n%100+100, 10)[1:]
	return strings.Replace(m.MoneyPattern, "{}", s, 1)
}

// formatTime writes t in Europe/Oslo with the zone's name: "1. des. 2026 kl. 14.45 CET".
func (m messages) formatTime(t time.Time) string {
	t = t.In(oslo)
	clock := t.Format("15" + m.ClockSeparator + "04")
	return strings.NewReplacer("{day}", strconv.Itoa(t.Day()), "{month}", m.Months[t.Month()-1],
		"{year}", strconv.Itoa(t.Year()), "{clock}", clock, "{zone}", t.Format("MST")).Replace(m.TimePattern)
}

// formatQuotient writes a cost per use or per inhabitant, or in words why
// there is none. As agreements rounds it: whole øre from 1 krone up, two
// significant digits below, so that a small cost never prints as 0,00.
func (m messages) formatQuotient(q agreements.Quotient) string {
	if v, ok := quotientValue(q); ok {
		decimals := 2
		if a := math.Abs(v); a > 0 && a < 0.995 {
			decimals = max(2, 1-int(math.Floor(math.Log10(a))))
		}
		return strings.Replace(m.MoneyPattern, "{}", m.formatFixed(v, decimals), 1)
	}
	switch q.Reason {
	case "no uses":
		return m.NoUses
	case "no inhabitants":
		return m.NoInhabitants
	}
	return m.NoData
}

// quotientValue is q in kroner, when it has a value.
func quotientValue(q agreements.Quotient) (float64, bool) {
	if !q.OK() {
		return 0, false
	}
	v, _ := q.Value.Float64()
	return v, true
}
