package report

import (
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat/agreements"
)

func TestFormat(t *testing.T) {
	nb := catalog["nb"]
	cases := []struct {
		got, want string
	}{
		{nb.formatInt(0), "0"},
		{nb.formatInt(999), "999"},
		{nb.formatInt(1000), "1\u00a0000"},
		{nb.formatInt(1234567), "1\u00a0234\u00a0567"},
		{nb.formatInt(-4200), "−4\u00a0200"},
		{nb.formatNumber(1234.5), "1\u00a0235"},
		{nb.formatDecimal(1234.56), "1\u00a0234,6"},
		{nb.formatDecimal(-0.25), "−0,3"},
		{nb.formatPercent(12.34), "+12,3\u00a0%"},
		{nb.formatPercent(-5), "−5,0\u00a0%"},
		{nb.formatMonth(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)), "jan. 2025"},
		{catalog["en"].formatMonth(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)), "Mar 2025"},
		{catalog["en"].formatDecimal(1234.56), "1,234.6"},
		{nb.formatMoney(12000000), "120\u00a0000,00\u00a0kr"},
		{catalog["en"].formatMoney(12000000), "NOK\u00a0120,000.00"},
		{nb.formatMoney(-5), "−0,05\u00a0kr"},
		{nb.formatFixed(0.0038, 4), "0,0038"},
		{nb.formatTime(time.Date(2026, 1, 5, 6, 30, 0, 0, time.UTC)), "5. jan. 2026 kl. 07.30 (CET)"},
		{nb.formatTime(time.Date(2026, 7, 5, 6, 30, 0, 0, time.UTC)), "5. juli 2026 kl. 08.30 (CEST)"},
		{catalog["en"].formatTime(time.Date(2026, 7, 5, 6, 30, 0, 0, time.UTC)), "5 Jul 2026, 08:30 (CEST, Norwegian time)"},
		{nb.formatQuotient(agreements.Quotient{Value: big.NewRat(249, 100)}), "2,49\u00a0kr"},
		{nb.formatQuotient(agreements.Quotient{Value: big.NewRat(38, 10000)}), "0,0038\u00a0kr"},
		{nb.formatQuotient(agreements.Quotient{Reason: "no uses"}), "ingen bruk"},
		{nb.months(1) + " " + nb.months(12), "1 måned 12 måneder"},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: got %q, want %q", i, c.got, c.want)
		}
	}
}

// TestCatalogComplete fails when a language lacks a text another has:
// an empty text, a list of another length, a word map without a key.
func TestCatalogComplete(t *testing.T) {
	ref := reflect.ValueOf(catalog["nb"])
	for lang, m := range catalog {
		v := reflect.ValueOf(m)
		for i := range v.NumField() {
			f, name := v.Field(i), v.Type().Field(i).Name
			switch f.Kind() {
			case reflect.String:
				if f.String() == "" {
					t.Errorf("%s lacks %s", lang, name)
				}
			case reflect.Slice, reflect.Array:
				if f.Len() != ref.Field(i).Len() {
					t.Errorf("%s: %s has %d texts, nb %d", lang, name, f.Len(), ref.Field(i).Len())
				}
			case reflect.Map:
				for _, k := range ref.Field(i).MapKeys() {
					if !f.MapIndex(k).IsValid() || f.MapIndex(k).IsZero() {
						t.Errorf("%s: %s lacks %v", lang, name, k)
					}
				}
			}
		}
	}
	for _, mt := range glossaryMetrics {
		if _, ok := catalog["nb"].Metrics[mt]; !ok {
			t.Errorf("the glossary explains %s, which has no words", mt)
		}
	}
}
