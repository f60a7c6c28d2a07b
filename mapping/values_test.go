package mapping

import (
	"testing"
)

func TestParseMonth(t *testing.T) {
	tests := []struct {
		in      string
		year    int
		numeric bool
		want    string // "" means an error
	}{
		{"2025-01", 0, false, "2025-01"},
		{"2025/1", 0, false, "2025-01"},
		{"2025-03-15", 0, false, "2025-03"},
		{"2025-03-15T00:00:00Z", 0, false, "2025-03"},
		{"01.2025", 0, false, "2025-01"},
		{"1/2025", 0, false, "2025-01"},
		{"15.02.2025", 0, false, "2025-02"},
		{"jan-25", 0, false, "2025-01"},
		{"Jan-2025", 0, false, "2025-01"},
		{"jan. 2025", 0, false, "2025-01"},
		{"januar 2025", 0, false, "2025-01"},
		{"Desember 2024", 0, false, "2024-12"},
		{"okt-24", 0, false, "2024-10"},
		{"2025 mai", 0, false, "2025-05"},
		{"March 2025", 0, false, "2025-03"},
		{"Mrz-2025", 0, false, "2025-03"}, // German, as counter reads headings
		{"März 2025", 0, false, "2025-03"},
		{"Dezember", 2024, false, "2024-12"},
		{"Description", 2025, false, ""}, // no month's name begins so
		{"mai", 2025, false, "2025-05"},
		{"sept.", 2025, false, "2025-09"},
		{"des.", 2025, false, "2025-12"},
		{"mars", 0, false, ""},          // no year anywhere
		{"45658", 0, true, "2025-01"},   // Excel serial of 2025-01-01
		{"45688.5", 0, true, "2025-01"}, // 2025-01-31 midday
		{"45658", 0, false, "2025-01"},  // a serial exported as text
		{"3", 2025, false, "2025-03"},   // a month number with the year from the mapping
		{"3", 2025, true, ""},           // a spreadsheet number 3 is no date
		{"2025", 0, false, ""},
		{"13.2025", 0, false, ""},
		{"2025-13", 0, false, ""},
		{"smørbrød 2025", 0, false, ""},
		{"", 2025, false, ""},
		{"1899-12", 0, false, ""},
	}
	for _, tt := range tests {
		got, err := parseMonth(tt.in, tt.year, tt.numeric)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("parseMonth(%q, %d, %v) = %s, want an error", tt.in, tt.year, tt.numeric, got)
		case tt.want != "" && err != nil:
			t.Errorf("parseMonth(%q, %d, %v): %v", tt.in, tt.year, tt.numeric, err)
		case tt.want != "" && got.String() != tt.want:
			t.Errorf("parseMonth(%q, %d, %v) = %s, want %s", tt.in, tt.year, tt.numeric, got, tt.want)
		}
	}
}

func TestParseCount(t *testing.T) {
	tests := []struct {
		in      string
		nf      NumberFormat
		numeric bool
		want    int64
		err     bool
	}{
		{"1234", NumbersAuto, false, 1234, false},
		{"1 234", NumbersAuto, false, 1234, false},
		{"1\u00a0234", NumbersNO, false, 1234, false},
		{"1\u202f234\u202f567", NumbersNO, false, 1234567, false},
		{"1.234", NumbersNO, false, 1234, false},
		{"1.234", NumbersAuto, false, 1234, false},
		{"1,234", NumbersEN, false, 1234, false},
		{"1,234", NumbersAuto, false, 1234, false},
		{"12,345,678", NumbersAuto, false, 12345678, false},
		{"1.234.567", NumbersAuto, false, 1234567, false},
		{"1 234,0", NumbersNO, false, 1234, false},
		{"1,234.00", NumbersAuto, false, 1234, false},
		{"1.234,00", NumbersAuto, false, 1234, false},
		{"1234", NumbersAuto, true, 1234, false},
		{"1234.0", NumbersAuto, true, 1234, false},
		{"", NumbersAuto, false, 0, false},
		{"-", NumbersAuto, false, 0, false},
		{"1 234,5", NumbersNO, false, 0, true}, // a count is whole
		{"1,234", NumbersNO, false, 0, true},   // 1,234 in Norwegian is a fraction
		{"-5", NumbersAuto, false, 0, true},
		{"−5", NumbersAuto, false, 0, true},
		{"abc", NumbersAuto, false, 0, true},
		{"1e3", NumbersAuto, false, 0, true},
		{"NaN", NumbersAuto, true, 0, true},
		{"12,3,4", NumbersNO, false, 0, true},
	}
	for _, tt := range tests {
		got, err := parseCount(tt.in, tt.nf, tt.numeric)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parseCount(%q, %s, %v) = %d, %v; want %d, error %v", tt.in, tt.nf, tt.numeric, got, err, tt.want, tt.err)
		}
	}
	if f, err := parseNumber("1 234,5", NumbersNO, false); err != nil || f != 1234.5 {
		t.Errorf(`parseNumber("1 234,5") = %v, %v; want 1234.5`, f, err)
	}
}
