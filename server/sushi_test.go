package server

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/counter"
	"github.com/bibliotek24/bibstat/ingest"
	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/ingest/sushi"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/internal/sushisim"
	"github.com/bibliotek24/bibstat/schemas"
	"github.com/bibliotek24/bibstat/transform"
)

// demoWarehouse harvests the simulator's demo world into a warehouse, as
// "bibstat demo" does, once per test binary.
var demoWarehouse = sync.OnceValues(func() (*transform.Warehouse, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "bibstat-server-test-")
	if err != nil {
		return nil, err
	}
	world, err := sushisim.Demo()
	if err != nil {
		return nil, err
	}
	st, err := store.NewLocal(filepath.Join(dir, "archive"))
	if err != nil {
		return nil, err
	}
	led, err := ledger.Open(filepath.Join(dir, "ledger.jsonl"))
	if err != nil {
		return nil, err
	}
	defer led.Close()
	var jobs []ingest.Job
	for _, p := range world.Platforms {
		ts := httptest.NewServer(world.Handler(p.ID))
		defer ts.Close()
		for _, lib := range world.Libraries {
			cred := sushi.Credential{ID: string(lib.ID), Platform: p.ID, Library: lib.ID, BaseURL: ts.URL, Release: "5.1",
				CustomerID: world.CustomerID(lib.ID), APIKey: world.APIKey(p.ID, lib.ID)}
			for _, m := range bibstat.MonthsBetween(world.First, world.Last) {
				jobs = append(jobs, ingest.Job{Unit: bibstat.Unit{Platform: p.ID, Credential: cred.ID, Report: "pr", Month: m}, Cred: cred})
			}
		}
	}
	h := &ingest.Harvester{Store: st, Ledger: led, Fetcher: &sushi.Client{}, Log: slog.New(slog.DiscardHandler), Spacing: time.Millisecond}
	if _, err := h.Run(ctx, jobs); err != nil {
		return nil, err
	}
	wh, err := transform.Open(ctx, filepath.Join(dir, "warehouse.duckdb"), transform.Options{}, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	var libs []transform.Library
	for _, l := range world.Libraries {
		libs = append(libs, transform.Library{ID: l.ID, Name: l.Name, Municipality: l.Municipality, Population: int64(l.Population)})
	}
	if err := wh.PutLibraries(ctx, libs); err != nil {
		return nil, err
	}
	if _, err := wh.Load(ctx, st); err != nil {
		return nil, err
	}
	return wh, nil
})

// sushiFixture serves the demo warehouse, with a token per role.
type sushiFixture struct {
	ts     *httptest.Server
	tokens map[string]string // user → api_key
	libs   []LibraryInfo
	db     *sql.DB
}

func newSushiFixture(t *testing.T) *sushiFixture {
	t.Helper()
	return newSushiFixtureOn(t, demoWarehouse)
}

// newSushiFixtureOn serves the warehouse that warehouse builds.
func newSushiFixtureOn(t *testing.T, warehouse func() (*transform.Warehouse, error)) *sushiFixture {
	t.Helper()
	wh, err := warehouse()
	if err != nil {
		t.Fatal(err)
	}
	geo := newDBGeo(wh.DB)
	libs, err := geo.Libraries(context.Background())
	if err != nil || len(libs) < 2 {
		t.Fatalf("libraries: %v %v", libs, err)
	}
	dir := t.TempDir()
	users, err := OpenUsers(filepath.Join(dir, "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	f := &sushiFixture{tokens: map[string]string{}, libs: libs, db: wh.DB}
	for _, u := range []User{
		{Name: "admin", Role: RoleAdmin},
		{Name: "lib0", Role: RoleLibrary, Library: libs[0].ID},
		{Name: "lib1", Role: RoleLibrary, Library: libs[1].ID},
	} {
		if _, err := users.Add(u, "", time.Now()); err != nil {
			t.Fatal(err)
		}
		if f.tokens[u.Name], err = users.NewToken(u.Name, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	// Now is in 2026: the simulator's 2025 is fully harvested, 2026 is not.
	srv, err := New(Config{DB: wh.DB, SiteDir: dir, Users: users, Geo: geo,
		Now: func() time.Time { return time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	f.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(f.ts.Close)
	return f
}

func (f *sushiFixture) get(t *testing.T, path string, q url.Values) (int, []byte) {
	t.Helper()
	resp, err := http.Get(f.ts.URL + path + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestRoundTrip harvests BibStat's own SUSHI server with BibStat's
// harvester and reader, and compares every library × platform × metric ×
// month with the warehouse's library mart.
func TestRoundTrip(t *testing.T) {
	f := newSushiFixture(t)
	ctx := context.Background()
	type key struct{ lib, platform, metric, month string }
	want := map[key]int64{}
	rows, err := f.db.QueryContext(ctx, `SELECT library_id, platform, metric_type, strftime(month, '%Y-%m'), count
		FROM mart_library_month WHERE release LIKE '5%' AND count <> 0`)
	if err != nil {
		t.Fatal(err)
	}
	platforms := map[string]bool{}
	for rows.Next() {
		var k key
		var n int64
		if err := rows.Scan(&k.lib, &k.platform, &k.metric, &k.month, &n); err != nil {
			t.Fatal(err)
		}
		want[k] += n
		platforms[k.platform] = true
	}
	rows.Close()
	if len(want) == 0 {
		t.Fatal("the warehouse has no usage")
	}
	got := map[key]int64{}
	client := &sushi.Client{}
	for _, li := range f.libs {
		for p := range platforms {
			cred := sushi.Credential{ID: string(li.ID), Platform: p, BaseURL: f.ts.URL + "/r51", Release: "5.1",
				CustomerID: li.ID.ISIL(), RequestorID: "admin", APIKey: f.tokens["admin"], PlatformParam: p}
			resp, err := client.Report(ctx, cred, "pr", bibstat.Month{Year: 2025, Mon: 1}, bibstat.Month{Year: 2025, Mon: 12})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != 200 {
				t.Fatalf("%s %s: status %d: %s", li.ID, p, resp.Status, resp.Body)
			}
			doc, err := counter.Read(ctx, bytes.NewReader(resp.Body), counter.Options{Name: "roundtrip"}, func(b arrow.RecordBatch) error {
				defer b.Release()
				sc := b.Schema()
				metric := b.Column(sc.FieldIndices(schemas.ColMetricType)[0]).(*array.String)
				month := b.Column(sc.FieldIndices(schemas.ColMonth)[0]).(*array.Date32)
				count := b.Column(sc.FieldIndices(schemas.ColCount)[0]).(*array.Int64)
				plat := b.Column(sc.FieldIndices(schemas.ColPlatform)[0]).(*array.String)
				for i := 0; i < int(b.NumRows()); i++ {
					k := key{string(li.ID), plat.Value(i), metric.Value(i), month.Value(i).ToTime().Format("2006-01")}
					got[k] += count.Value(i)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("read %s %s: %v", li.ID, p, err)
			}
			if doc.Release != "5.1" || doc.ReportID != "PR" {
				t.Errorf("%s %s: read release %q report %q", li.ID, p, doc.Release, doc.ReportID)
			}
		}
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%v: harvested %d, warehouse %d", k, got[k], n)
		}
	}
	for k, n := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%v: harvested %d, not in the warehouse", k, n)
		}
	}
	t.Logf("%d library × platform × metric × month cells equal", len(want))
}

func TestSUSHIExceptions(t *testing.T) {
	f := newSushiFixture(t)
	lib0, lib1 := f.libs[0].ID.ISIL(), f.libs[1].ID.ISIL()
	q := func(kv ...string) url.Values {
		v := url.Values{"customer_id": {lib0}, "requestor_id": {"lib0"}, "api_key": {f.tokens["lib0"]},
			"begin_date": {"2025-01"}, "end_date": {"2025-03"}}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	tests := []struct {
		name   string
		path   string
		q      url.Values
		status int
		codes  []int // the bare exception's code, or the header's codes
	}{
		{"ok", "/r51/reports/pr", q(), 200, nil},
		{"status is public", "/r51/status", url.Values{}, 200, nil},
		{"no customer", "/r51/reports/pr", q("customer_id", ""), 400, []int{1030}},
		{"no credentials", "/r51/reports/pr", q("requestor_id", "", "api_key", ""), 401, []int{2000}},
		{"no key", "/r51/reports/pr", q("api_key", ""), 401, []int{2020}},
		{"unknown requestor", "/r51/reports/pr", q("requestor_id", "nobody", "api_key", "bst_00_00"), 401, []int{2000}},
		{"bad key", "/r51/reports/pr", q("api_key", "bst_0011223344556677_abcd"), 401, []int{2000}}, // as an unknown requestor's
		{"someone else's key", "/r51/reports/pr", q("api_key", f.tokens["lib1"]), 401, []int{2000}},
		{"another library", "/r51/reports/pr", q("customer_id", lib1), 403, []int{2010}},
		{"unknown customer", "/r51/reports/pr", q("customer_id", "NO-2999999"), 403, []int{2010}},
		{"bare bibnr", "/r51/reports/pr", q("customer_id", strings.TrimPrefix(lib0, "NO-")), 403, []int{2010}},
		{"bad date", "/r51/reports/pr", q("begin_date", "2025-13"), 400, []int{3020}},
		{"reversed dates", "/r51/reports/pr", q("begin_date", "2025-05", "end_date", "2025-01"), 400, []int{3020}},
		{"future", "/r51/reports/pr", q("begin_date", "2027-01", "end_date", "2027-02"), 400, []int{3020}},
		{"no begin", "/r51/reports/pr", q("begin_date", ""), 400, []int{1030}},
		{"not harvested yet", "/r51/reports/pr", q("begin_date", "2026-01", "end_date", "2026-02"), 200, []int{3031}},
		{"partly harvested", "/r51/reports/pr", q("begin_date", "2025-11", "end_date", "2026-02"), 200, []int{3031}},
		{"no usage", "/r51/reports/tr", q(), 200, []int{3030}},
		{"no usage before the start", "/r51/reports/pr", q("begin_date", "2020-01", "end_date", "2020-12"), 200, []int{3030}},
		{"unknown parameter", "/r51/reports/pr", q("colour", "blue"), 200, []int{3050}},
		{"view takes no filters", "/r51/reports/pr_p1", q("metric_type", "Total_Item_Requests"), 200, []int{3050}},
		{"bad metric", "/r51/reports/pr", q("metric_type", "No_License"), 200, []int{3060}},
		{"bad data type", "/r51/reports/pr", q("data_type", "Spaceship"), 200, []int{3060}},
		{"bad attribute", "/r51/reports/pr", q("attributes_to_show", "YOP"), 200, []int{3062}},
		{"global customer", "/r51/reports/pr", q("customer_id", GlobalCustomerID), 403, []int{2011}},
		{"global report list", "/r51/reports", q("customer_id", GlobalCustomerID), 403, []int{2011}},
		{"totals", "/r51/reports/pr", q("granularity", "Totals"), 200, nil},
		{"bad granularity", "/r51/reports/pr", q("granularity", "Weekly"), 200, []int{3062}},
		{"parents of a platform report", "/r51/reports/pr", q("include_parent_details", "True"), 200, []int{3050}},
		{"unknown report", "/r51/reports/xx_q9", q(), 404, []int{3000}},
		{"dot-dot report", "/r51/reports/..%2fmembers", q(), 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := f.get(t, tt.path, tt.q)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			if tt.codes == nil {
				return
			}
			var codes []int
			var bare counter.Exception
			var rep struct {
				Header struct {
					Exceptions []counter.Exception `json:"Exceptions"`
				} `json:"Report_Header"`
			}
			if status != 200 {
				if err := json.Unmarshal(body, &bare); err != nil {
					t.Fatalf("%s: %v", body, err)
				}
				codes = []int{bare.Code}
				if bare.Message == "" {
					t.Errorf("exception without a message: %s", body)
				}
			} else {
				if err := json.Unmarshal(body, &rep); err != nil {
					t.Fatalf("%s: %v", body, err)
				}
				for _, e := range rep.Header.Exceptions {
					codes = append(codes, e.Code)
				}
			}
			if fmt.Sprint(codes) != fmt.Sprint(tt.codes) {
				t.Errorf("codes %v, want %v: %s", codes, tt.codes, body)
			}
		})
	}
}

// TestSUSHISchema validates every endpoint's answer against the COUNTER
// R5.1 OpenAPI document's schemas.
func TestSUSHISchema(t *testing.T) {
	const schemaPath = "../../shared/counter-schemas/Project-Counter__cop5__COUNTER_SUSHI_API.json"
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Skipf("COUNTER schema not available: %v", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("counter.json", doc); err != nil {
		t.Fatal(err)
	}
	compile := func(ref string) *jsonschema.Schema {
		s, err := c.Compile("counter.json#/components/schemas/" + ref)
		if err != nil {
			t.Fatalf("compile %s: %v", ref, err)
		}
		return s
	}
	// The validator must be able to say no.
	if compile("PR").Validate(map[string]any{"Report_Header": map[string]any{"Release": "5"}, "Report_Items": []any{}}) == nil {
		t.Fatal("an invalid PR validated")
	}
	f := newSushiFixture(t)
	base := url.Values{"customer_id": {f.libs[0].ID.ISIL()}, "requestor_id": {"admin"}, "api_key": {f.tokens["admin"]},
		"begin_date": {"2025-01"}, "end_date": {"2025-12"}}
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for k, x := range base {
			v[k] = x
		}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	cases := []struct {
		path, schema string
		q            url.Values
		array        bool
	}{
		{"/r51/status", "Status", url.Values{}, true},
		{"/r51/members", "Member", with("customer_id", ConsortiumCustomerID), true},
		{"/r51/reports", "Report", base, true},
		{"/r51/reports/pr", "PR", with("attributes_to_show", "Access_Method"), false},
		{"/r51/reports/pr", "PR", with("begin_date", "2025-11", "end_date", "2026-02"), false}, // with 3031
		{"/r51/reports/pr", "PR", with("begin_date", "2019-01", "end_date", "2019-02"), false}, // with 3030
		{"/r51/reports/pr", "PR", with("colour", "x", "metric_type", "Bogus|Total_Item_Requests|Unique_Item_Requests"), false},
	}
	for _, sp := range specs {
		cases = append(cases, struct {
			path, schema string
			q            url.Values
			array        bool
		}{"/r51/reports/" + lower(sp.ID), sp.ID, base, false})
	}
	for _, tc := range cases {
		status, body := f.get(t, tc.path, tc.q)
		if status != 200 {
			t.Errorf("%s: status %d: %s", tc.path, status, body)
			continue
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		sch := compile(tc.schema)
		if tc.array {
			arr, ok := v.([]any)
			if !ok || len(arr) == 0 {
				t.Errorf("%s: want a non-empty array: %s", tc.path, body)
				continue
			}
			for _, el := range arr {
				if err := sch.Validate(el); err != nil {
					t.Errorf("%s %v: %v", tc.path, tc.q.Get("begin_date"), err)
				}
			}
			continue
		}
		if err := sch.Validate(v); err != nil {
			t.Errorf("%s %s: %v\n%.600s", tc.path, tc.q.Encode(), err, body)
		}
	}
}
