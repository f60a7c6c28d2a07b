package agreements

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestWriteAgreement(t *testing.T) {
	a := agreement(ModelBasePopulation, "c", "2025-01", "2025-12", "120000", lib("2000001"), join(lib("2000002"), "2025-07"))
	a.ID, a.Name, a.Vendor, a.VATIncluded, a.VATRate = "leksikon-2025", "Leksikon 2025", "Leksikon AS", false, ratOf("0.25")
	h := []HistoryRow{{At: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Change: "created", Summary: "new", Source: "a.yaml"}}
	var out bytes.Buffer
	if err := WriteAgreement(&out, a, h); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"id:            leksikon-2025\n",
		"vendor:        Leksikon AS\n",
		"period:        2025-01–2025-12 (12 months)\n",
		"150 000,00 NOK incl. VAT, 120 000,00 NOK excl. VAT (VAT rate 0.25; price_nok given excl. VAT)\n",
		"  library 2000002  2025-07–2025-12\n",
		"allocation:    base_population, base_share 0.30\n",
		"history:\n  2025-01-02 03:04:05  created  new (a.yaml)\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
