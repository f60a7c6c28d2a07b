package agreements

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/transform"
)

// martWorld is a warehouse built from an archive by transform's own load
// and marts: Oslo (2030100) uses film 31 times a month itself in 2025; a
// shared IP range (Customer_ID "ip-range") pooled between Oslo and Bergen
// (2120100), split equally, has 371 uses a month from January to June and
// 372 from July: 4 458, of which Oslo's share is 2 229. Ålesund's library
// (2150700) is registered under old Ålesund (1507, split in 2024).
func martWorld(t *testing.T) *transform.Warehouse {
	t.Helper()
	ctx := context.Background()
	st := store.NewMemory()
	put := func(key, body string) {
		if err := st.Put(ctx, key, strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}
	put(bibstat.LibrariesCSVKey, "bibnr,name,type,kommnr\n2030100,Oslo,FBI,0301\n2120100,Bergen,FBI,4601\n2150700,Ålesund,FBI,1507\n")
	put(bibstat.InstitutionsKey, "platform,id_kind,id_value,library_id,pool_id\n*,customer_id,ip-range,,ip\n")
	put(bibstat.PoolsKey, "pool_id,name,rule,metric_type,members\nip,Shared IP range,equal,,2030100 2120100\n")
	at := time.Date(2026, 1, 5, 2, 0, 0, 0, time.UTC)
	for _, m := range bibstat.MonthsBetween(bibstat.Month{Year: 2025, Mon: 1}, bibstat.Month{Year: 2025, Mon: 12}) {
		pooled := 371
		if m.Mon > 6 {
			pooled = 372
		}
		for _, h := range []struct {
			cred     string
			lib      bibstat.LibraryID
			customer string
			count    int
		}{{"oslo", "2030100", "oslo", 31}, {"ip", "", "ip-range", pooled}, {"alesund", "2150700", "alesund", 5}} {
			u := bibstat.Unit{Platform: "film", Credential: h.cred, Report: "pr", Month: m}
			key := u.RawKey(at, "json")
			body := fmt.Sprintf(`{"Report_Header": {"Release": "5.1", "Report_ID": "PR", "Report_Name": "Platform Report",
  "Institution_Name": "x", "Customer_ID": %q, "Created": "2026-01-05T02:00:00Z", "Created_By": "Film AS",
  "Report_Filters": {"Begin_Date": "%s", "End_Date": "%s"}},
 "Report_Items": [{"Platform": "film", "Attribute_Performance": [{"Data_Type": "Multimedia", "Access_Method": "Regular",
  "Performance": {"Unique_Item_Requests": {%q: %d}}}]}]}`, h.customer, m.First().Format(time.DateOnly),
				m.Add(1).First().AddDate(0, 0, -1).Format(time.DateOnly), m.String(), h.count)
			side, err := json.Marshal(bibstat.Sidecar{Key: key, Source: "sushi", Platform: "film", Credential: h.cred, Library: h.lib,
				Report: "pr", Month: m.String(), HarvestedAt: at, State: bibstat.StateOK, Release: "5.1", Rows: 1, Size: int64(len(body))})
			if err != nil {
				t.Fatal(err)
			}
			put(key, body)
			put(key+bibstat.SidecarSuffix, string(side))
		}
	}
	w, err := transform.Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"), transform.Options{Threads: 1}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	if _, err := w.Update(ctx, st); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestAgreementUsesAsLibraryPage: the agreement counts what the library's
// page counts, own and pooled. Before, it read only mart_library_month's
// count: Oslo's page said 2 601, its agreement 372.
func TestAgreementUsesAsLibraryPage(t *testing.T) {
	ctx := context.Background()
	wh := martWorld(t)
	var page, own float64
	if err := wh.DB.QueryRowContext(ctx, `SELECT sum(total), sum(count) FROM mart_library_month
		WHERE library_id = '2030100' AND platform = 'film' AND metric_type = 'Unique_Item_Requests'`).Scan(&page, &own); err != nil {
		t.Fatal(err)
	}
	if page != 2601 || own != 372 {
		t.Fatalf("the world is not as described: page %v, own %v", page, own)
	}
	w := &Warehouse{DB: wh.DB}
	a := agreement(ModelFlat, "film", "2025-01", "2025-12", "26010", lib("2030100"))
	v, err := Value(ctx, w, a, a.From, a.To)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("library page %v uses; agreement %d uses (own %d + pooled %s); before: %v", page, v.Uses, v.OwnUses, formatUses(v.PooledUses), own)
	if v.Uses != int64(math.Round(page)) || v.OwnUses != 372 || formatUses(v.PooledUses) != "2 229" || v.CostPerUse.String() != "10,00 NOK" {
		t.Errorf("agreement: uses %d own %d pooled %s cost/use %s; want the page's 2 601 = 372 + 2 229, 10,00 NOK",
			v.Uses, v.OwnUses, formatUses(v.PooledUses), v.CostPerUse)
	}
}

// TestAgreementPopulationAsMarts: a library's inhabitants are
// library_population's, a county's those mart_per_1000 uses; the
// agreements compute neither.
func TestAgreementPopulationAsMarts(t *testing.T) {
	ctx := context.Background()
	wh := martWorld(t)
	w := &Warehouse{DB: wh.DB}
	for _, tt := range []struct {
		p     Participant
		query string
	}{
		{lib("2150700"), `SELECT population FROM library_population WHERE library_id = '2150700' AND year = 2025`},
		{lib("2030100"), `SELECT population FROM library_population WHERE library_id = '2030100' AND year = 2025`},
		{county("03"), `SELECT any_value(population) FROM mart_per_1000 WHERE level = 'county' AND area = '03' AND year(month) = 2025`},
	} {
		var want int64
		if err := wh.DB.QueryRowContext(ctx, tt.query).Scan(&want); err != nil {
			t.Fatalf("%s: %v", tt.query, err)
		}
		a := agreement(ModelFlat, "film", "2025-01", "2025-12", "1000", tt.p)
		v, err := Value(ctx, w, a, a.From, a.To)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d inhabitants", tt.p.Key(), v.Population)
		if v.Population != want || v.PopulationReason != "" {
			t.Errorf("%s: %d inhabitants (%s), the warehouse says %d", tt.p.Key(), v.Population, v.PopulationReason, want)
		}
	}
}
