package report

import (
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	nb := catalog["nb"]
	cases := []struct {
		n    int64
		want string
	}{
		{0, "0"}, {999, "999"}, {1000, "1\u00a0000"}, {1234567, "1\u00a0234\u00a0567"}, {-4200, "−4\u00a0200"},
	}
	for _, c := range cases {
		if got := nb.formatInt(c.n); got != c.want {
			t.Errorf("formatInt(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	if got := nb.formatMonth(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)); got != "jan. 2025" {
		t.Errorf("formatMonth = %q", got)
	}
	if got := catalog["en"].formatMonth(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)); got != "Mar 2025" {
		t.Errorf("en formatMonth = %q", got)
	}
}
