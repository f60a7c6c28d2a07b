package upload

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/store"
)

func loadTestMappings(t *testing.T) map[string]*Mapping {
	t.Helper()
	ms, err := LoadMappings("../../testdata/mappings")
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vendorFiles, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func clock() func() time.Time {
	t := time.Date(2025, 4, 3, 8, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Second); return t }
}

func TestFixturesDryRun(t *testing.T) {
	ms := loadTestMappings(t)
	tests := []struct {
		file, vendor string
		rows         int64
		units        int
		totals       map[bibstat.LibraryID]map[string]int64
	}{
		{"avisleser-2025q1.csv", "avisleser", 22, 12, map[bibstat.LibraryID]map[string]int64{
			"2030100": {"Total_Item_Investigations": 3737, "Total_Item_Requests": 37735},
			"2120100": {"Total_Item_Investigations": 2620, "Total_Item_Requests": 24168},
			"2160100": {"Total_Item_Investigations": 1267, "Total_Item_Requests": 11272},
			"2190200": {"Total_Item_Investigations": 904, "Total_Item_Requests": 7448},
		}},
		{"filmstrom-2025q1.xlsx", "filmstrom", 26, 9, nil},
		{"leksikon-2025.tsv", "leksikon", 70, 36, map[bibstat.LibraryID]map[string]int64{
			"2030100": {"Total_Item_Requests": 45597, "Searches_Platform": 12336},
			"2080600": {"Total_Item_Requests": 8198, "Searches_Platform": 2224},
			"3060201": {"Total_Item_Requests": 10672, "Searches_Platform": 3836},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			in := &Ingester{Store: store.NewMemory(), Mappings: ms, By: "test", Now: clock(), DryRun: true}
			out, err := in.Ingest(context.Background(), File{Name: tt.file, Data: readFixture(t, tt.file), Vendor: tt.vendor})
			if err != nil {
				t.Fatal(err)
			}
			t.Log("\n" + Explain(out))
			if out.Status != StatusLoaded {
				t.Fatalf("status %s: %s %v", out.Status, out.Reason, out.Rejected)
			}
			if out.Rows != tt.rows || len(out.Units) != tt.units {
				t.Errorf("rows %d units %d, want %d and %d", out.Rows, len(out.Units), tt.rows, tt.units)
			}
			for lib, want := range tt.totals {
				for metric, n := range want {
					if got := out.Totals[lib][metric]; got != n {
						t.Errorf("%s %s = %d, want %d", lib, metric, got, n)
					}
				}
			}
			if keys, _ := in.Store.List(context.Background(), ""); len(keys) != 0 {
				t.Errorf("dry run stored %q", keys)
			}
		})
	}
}
