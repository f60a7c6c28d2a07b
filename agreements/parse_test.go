package agreements

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat"
)

func known() Known {
	counties, _ := KnownCounties()
	return Known{
		Platforms: map[string]bool{"avisarkiv": true, "leksikon": true},
		Libraries: map[bibstat.LibraryID]bool{"2030100": true, "2120100": true},
		Counties:  counties,
	}
}

// good is a valid file; each error case below changes one line of it.
const good = `agreements:
  - id: avis-2025
    name: Avisarkivet 2025
    vendor: Demo Avis AS
    platforms: [avisarkiv]
    data_type: content
    period: {from: 2025-01, to: 2025-12}
    price_nok: 120000.50
    vat_included: false
    vat_rate: 0.25
    allocation: {model: base_population, base_share: 0.3}
    participants:
      - library: "2030100"
      - library: "2120100"
        joined: 2025-07
      - county: "32"
        joined: 2025-01
`

func TestParseGood(t *testing.T) {
	as, err := Parse("a.yaml", strings.NewReader(good), known())
	if err != nil {
		t.Fatal(err)
	}
	a := as[0]
	if a.ID != "avis-2025" || a.Price.FloatString(2) != "120000.50" || a.VATRate.String() != "1/4" ||
		a.BaseShare.String() != "3/10" || a.Model != ModelBasePopulation || a.Months() != 12 || a.Line != 2 {
		t.Errorf("parsed %+v", a)
	}
	if p := a.Participants[1]; p.Joined != mon("2025-07") || p.Left != mon("2025-12") || p.Line != 14 {
		t.Errorf("participant 1 = %+v", p)
	}
	if got := strings.Join(a.Metrics(), ","); got != "Unique_Item_Requests" {
		t.Errorf("metrics %s", got)
	}
	if got := toMoney(a.PriceInclVAT()); got != 15000063 {
		t.Errorf("price incl. VAT %s, want 150 000,63 (120 000,50 × 1,25 = 150 000,625)", got)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{"unknown library", `library: "2120100"`, `library: "2999999"`, "a.yaml:14: avis-2025.participants[1].library: unknown library 2999999"},
		{"bad library number", `library: "2120100"`, `library: "21201"`, "a.yaml:14: avis-2025.participants[1].library: library number"},
		{"unknown county", `county: "32"`, `county: "99"`, "a.yaml:16: avis-2025.participants[2].county: unknown county 99"},
		{"2024 county before 2024", "county: \"32\"\n        joined: 2025-01", "county: \"32\"\n        joined: 2023-01", "avis-2025.participants[2].joined: joined 2023-01 is before the agreement period"},
		{"negative price", "price_nok: 120000.50", "price_nok: -5", "a.yaml:8: avis-2025.price_nok: negative price -5"},
		{"price not a number", "price_nok: 120000.50", "price_nok: lots", "a.yaml:8: avis-2025.price_nok: missing or not a number"},
		{"unknown platform", "platforms: [avisarkiv]", "platforms: [avisarkiv, aviser]", "a.yaml:5: avis-2025.platforms[1]: unknown platform \"aviser\""},
		{"joined before the period", "joined: 2025-07", "joined: 2024-12", "a.yaml:15: avis-2025.participants[1].joined: joined 2024-12 is before the agreement period 2025-01–2025-12"},
		{"left after the period", "joined: 2025-07", "joined: 2025-07\n        left: 2026-01", "a.yaml:16: avis-2025.participants[1].left: left 2026-01 is after the agreement period"},
		{"overlap", `library: "2120100"`, `library: "2030100"`, "a.yaml:14: avis-2025.participants[1]: library 2030100 takes part 2025-07–2025-12, overlapping its participation 2025-01–2025-12 at line 13"},
		{"unknown field", "vendor: Demo Avis AS", "vendr: Demo Avis AS", "a.yaml:4: unknown field \"vendr\""},
		{"unknown model", "model: base_population, base_share: 0.3", "model: pro_rata", "a.yaml:11: avis-2025.allocation.model: \"pro_rata\""},
		{"base share without its model", "model: base_population", "model: flat", "avis-2025.allocation.base_share: base_share belongs only to the base_population model"},
		{"unknown metric", "data_type: content", "data_type: content\n    use_metrics: [Unique_Item_Request]", "a.yaml:7: avis-2025.use_metrics[0]: \"Unique_Item_Request\" is not a COUNTER Metric_Type"},
		{"Unique added to Total", "data_type: content", "data_type: content\n    use_metrics: [Total_Item_Requests, Unique_Item_Requests]",
			"a.yaml:7: avis-2025.use_metrics: Total_Item_Requests + Unique_Item_Requests: a Unique_ metric cannot be added to a Total_ metric"},
		{"Unique_Title added to Total, in any order", "data_type: content", "data_type: content\n    use_metrics: [Unique_Title_Requests, Searches_Regular, Total_Item_Investigations]",
			"avis-2025.use_metrics: Total_Item_Investigations + Unique_Title_Requests"},
		{"missing VAT", "    vat_included: false\n", "", "avis-2025.vat_included: missing"},
		{"month with a day", "to: 2025-12}", "to: 2025-12-31}", "a.yaml:7: avis-2025.period.to: \"2025-12-31\": want a month YYYY-MM"},
		{"syntax", "name: Avisarkivet 2025", "name: Avisarkivet: 2025", "a.yaml:3: mapping values are not allowed in this context"},
		{"period backwards", "to: 2025-12}", "to: 2024-12}", "avis-2025.period.to: period ends (2024-12) before it begins (2025-01)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(good, tt.old) {
				t.Fatalf("%q not in the good file", tt.old)
			}
			_, err := Parse("a.yaml", strings.NewReader(strings.Replace(good, tt.old, tt.new, 1)), known())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

// TestParseStructureOfEachMonth: a participant is checked against the
// county and municipality structure of every month it takes part in.
func TestParseStructureOfEachMonth(t *testing.T) {
	k := known()
	k.Libraries["3060201"] = true
	k.Municipalities = map[bibstat.LibraryID]string{"2030100": "0301", "3060201": "3005"} // 3005: Drammen until 2023
	tests := []struct {
		name, from, to, participant, want string
	}{
		{"2024 county before 2024", "2023-01", "2023-12", `county: "32"`,
			"a.yaml:16: avis-2025.participants[2].county: county 32 (Akershus) did not exist in 2023-01: created 1 January 2024 from county 30 (Viken)"},
		{"dissolved county after 2023", "2025-01", "2025-12", `county: "38"`,
			"a.yaml:16: avis-2025.participants[2].county: county 38 (Vestfold og Telemark) did not exist in 2025-01: dissolved 1 January 2024, succeeded by 39 Vestfold and 40 Telemark"},
		{"dissolved county across the reform", "2023-07", "2024-06", `county: "30"`,
			"county 30 (Viken) did not exist in 2024-01: dissolved 1 January 2024, succeeded by 31 Østfold, 32 Akershus and 33 Buskerud"},
		{"dissolved county before the reform", "2023-01", "2023-12", `county: "54"`, ""},
		{"2024 county after the reform", "2024-01", "2024-12", `county: "55"`, ""},
		{"municipality given up", "2025-01", "2025-12", `library: "3060201"`,
			"a.yaml:16: avis-2025.participants[2].library: library 3060201: municipality 3005 (Drammen) did not exist in 2025-01: succeeded by 3301 Drammen"},
		{"municipality given up, before the reform", "2023-01", "2023-12", `library: "3060201"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := strings.NewReplacer("from: 2025-01", "from: "+tt.from, "to: 2025-12", "to: "+tt.to, "joined: 2025-07", "joined: "+tt.from,
				"county: \"32\"\n        joined: 2025-01", tt.participant).Replace(good)
			_, err := Parse("a.yaml", strings.NewReader(f), k)
			if tt.want == "" {
				if err != nil {
					t.Errorf("err = %v, want none", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v\nwant %q", err, tt.want)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Errorf("%T is not a *FieldError", err)
			}
		})
	}
}

func TestParseDuplicateID(t *testing.T) {
	f := good + strings.TrimPrefix(good, "agreements:\n")
	_, err := Parse("a.yaml", strings.NewReader(f), known())
	if err == nil || !strings.Contains(err.Error(), `a.yaml:18: avis-2025.id: agreement "avis-2025" is also defined at line 2`) {
		t.Errorf("err = %v", err)
	}
}

// TestUseMetricsMix: Unique_ with Unique_, Total_ with Total_ and either with
// searches may be added; Unique_ with Total_ never, in the file or in a
// registry imported before the rule.
func TestUseMetricsMix(t *testing.T) {
	for _, tt := range []struct {
		metrics []string
		mixed   bool
	}{
		{[]string{"Searches_Regular", "Unique_Item_Investigations"}, false},
		{[]string{"Total_Item_Requests"}, false},
		{[]string{"Total_Item_Requests", "Searches_Platform"}, false},
		{[]string{"Total_Item_Requests", "Unique_Item_Requests"}, true},
		{[]string{"Unique_Item_Investigations", "Total_Item_Requests"}, true},
	} {
		err := checkMetrics("a1", tt.metrics)
		if got := errors.Is(err, ErrUniqueWithTotal); got != tt.mixed {
			t.Errorf("%v: err = %v, want mixed %v", tt.metrics, err, tt.mixed)
		}
		if tt.mixed && !strings.Contains(err.Error(), "a1.use_metrics") {
			t.Errorf("%v: %v does not name the agreement and field", tt.metrics, err)
		}
	}
	bad := strings.Replace(good, "data_type: content", "data_type: content\n    use_metrics: [Total_Item_Requests, Unique_Item_Requests]", 1)
	if _, err := Parse("a.yaml", strings.NewReader(bad), known()); !errors.Is(err, ErrUniqueWithTotal) {
		t.Errorf("Parse: err = %v, want ErrUniqueWithTotal", err)
	}
	a := agreement(ModelFlat, "p", "2025-01", "2025-12", "1000", lib("2000001"))
	a.UseMetrics = []string{"Total_Item_Requests", "Unique_Item_Requests"}
	if _, err := Value(context.Background(), world(), a, a.From, a.To); !errors.Is(err, ErrUniqueWithTotal) {
		t.Errorf("Value of a stored agreement adding Unique_ to Total_: err = %v", err)
	}
}
