package agreements

import (
	"bytes"
	"context"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/agreements")

// TestWriteTextGolden prints two valuations with --explain: base share +
// population with a county, a library joining in July and a participant with
// zero use; and a usage-model agreement with no harvested data yet.
func TestWriteTextGolden(t *testing.T) {
	base := agreement(ModelBasePopulation, "c", "2025-01", "2025-12", "120000",
		lib("2000001"), join(lib("2000002"), "2025-07"), county("46"))
	base.ID, base.Name, base.VATIncluded, base.VATRate = "leksikon-2025", "Leksikon 2025", false, ratOf("0.25")
	none := agreement(ModelUsage, "none", "2025-01", "2025-12", "90000", lib("2000001"), county("30"))
	none.ID, none.Name, none.DataType = "film-2025", "Film 2025", DataMultimedia
	var out bytes.Buffer
	for _, a := range []Agreement{base, none} {
		v, err := Value(context.Background(), world(), a, mon("2025-01"), mon("2025-12"))
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteText(&out, v, true); err != nil {
			t.Fatal(err)
		}
		out.WriteString("\n")
	}
	golden := filepath.Join("..", "testdata", "agreements", "value_explain.golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./agreements -run Golden -update)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("output differs from %s (run with -update to accept):\n%s", golden, out.String())
	}
}

func ratOf(s string) *big.Rat {
	r, err := parseDecimal(s)
	if err != nil {
		panic(err)
	}
	return r
}
