package report

import (
	"reflect"
	"testing"
	"time"
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
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: got %q, want %q", i, c.got, c.want)
		}
	}
}

// TestCatalogComplete fails when a language lacks a text another has.
func TestCatalogComplete(t *testing.T) {
	for lang, m := range catalog {
		v := reflect.ValueOf(m)
		for i := range v.NumField() {
			if f := v.Field(i); f.Kind() == reflect.String && f.String() == "" {
				t.Errorf("%s lacks %s", lang, v.Type().Field(i).Name)
			}
		}
	}
}
