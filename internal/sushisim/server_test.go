package sushisim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/counter"
	"github.com/bibliotek24/bibstat/schemas"
)

func world() *Config {
	return &Config{Seed: 3, First: bibstat.Month{Year: 2025, Mon: 1}, Last: bibstat.Month{Year: 2025, Mon: 12},
		Platforms: []Platform{{ID: "p", Name: "P", DataType: "Database_Full", Scale: 30}},
		Libraries: []Library{{ID: "2030100", Name: "Oslo", Population: 40000}, {ID: "2120100", Name: "Bergen", Population: 20000}},
		Faults:    []Fault{{Library: "2120100", Kind: FaultQueued, Times: 2}}}
}

func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

func TestReportsBothReleasesMatchUsage(t *testing.T) {
	c := world()
	h := c.Handler("p")
	m := bibstat.Month{Year: 2025, Mon: 3}
	for _, prefix := range []string{"/r51", ""} {
		rec := get(t, h, prefix+"/reports/pr?customer_id="+c.CustomerID("2030100")+"&api_key="+c.APIKey("p", "2030100")+"&begin_date=2025-03&end_date=2025-03")
		if rec.Code != 200 {
			t.Fatalf("%q: HTTP %d %s", prefix, rec.Code, rec.Body)
		}
		doc, err := counter.Read(context.Background(), bytes.NewReader(rec.Body.Bytes()), counter.Options{}, func(r arrow.RecordBatch) error { r.Release(); return nil })
		if err != nil {
			t.Fatalf("%q: %v", prefix, err)
		}
		want := c.Usage("p", "2030100", m)
		for metric, n := range want {
			if doc.Totals[metric] != n {
				t.Errorf("%q %s = %d, want %d", prefix, metric, doc.Totals[metric], n)
			}
		}
	}
}

func TestFaultTimesThenReady(t *testing.T) {
	c := world()
	h := c.Handler("p")
	q := "/r51/reports/pr?customer_id=" + c.CustomerID("2120100") + "&api_key=" + c.APIKey("p", "2120100") + "&begin_date=2025-03&end_date=2025-03"
	for i, want := range []int{202, 202, 200} {
		if rec := get(t, h, q); rec.Code != want {
			t.Fatalf("request %d: HTTP %d, want %d", i, rec.Code, want)
		}
	}
}

func TestMembersAndAuth(t *testing.T) {
	c := world()
	h := c.Handler("p")
	rec := get(t, h, "/r51/members?customer_id="+ConsortiumCustomerID+"&api_key="+c.ConsortiumKey("p"))
	var ms []map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &ms); err != nil || len(ms) != 2 {
		t.Fatalf("members: %v %s", err, rec.Body)
	}
	if rec := get(t, h, "/r51/reports/pr?customer_id="+c.CustomerID("2030100")+"&api_key=wrong&begin_date=2025-03&end_date=2025-03"); rec.Code != 401 {
		t.Errorf("bad key: HTTP %d", rec.Code)
	}
	if rec := get(t, h, "/reports/tr?customer_id="+c.CustomerID("2030100")+"&api_key="+c.APIKey("p", "2030100")); rec.Code != 404 {
		t.Errorf("unsupported report: HTTP %d", rec.Code)
	}
}

// TestReportShowsTheAttributesAskedFor: a simulated vendor shows a column
// only when asked, as real ones do (R5.1 shows Data_Type always), and says
// 3062 for an attribute its release does not take.
func TestReportShowsTheAttributesAskedFor(t *testing.T) {
	c := world()
	h := c.Handler("p")
	tests := []struct {
		prefix, attrs          string
		dataType, accessMethod string
		exc                    int
	}{
		{"", "", "", "", 0},
		{"", "Access_Method", "", "Regular", 0},
		{"", "Data_Type|Access_Method", "Database_Full", "Regular", 0},
		{"/r51", "", "Database_Full", "", 0},
		{"/r51", "Access_Method", "Database_Full", "Regular", 0},
		{"/r51", "Data_Type|Access_Method", "Database_Full", "Regular", 3062},
	}
	for _, tc := range tests {
		rec := get(t, h, tc.prefix+"/reports/pr?customer_id="+c.CustomerID("2030100")+"&api_key="+c.APIKey("p", "2030100")+
			"&begin_date=2025-03&end_date=2025-03&attributes_to_show="+tc.attrs)
		var rows int
		doc, err := counter.Read(context.Background(), bytes.NewReader(rec.Body.Bytes()), counter.Options{}, func(r arrow.RecordBatch) error {
			defer r.Release()
			var row schemas.Row
			for i := range int(r.NumRows()) {
				row.SetFrom(r, i)
				rows++
				dt := tc.dataType
				if row.MetricType == counter.SearchesPlatform && dt != "" {
					dt = "Platform" // the platform's searches, never its content's
				}
				if row.DataType != dt || row.AccessMethod != tc.accessMethod {
					t.Errorf("%q %q: %s row Data_Type %q Access_Method %q, want %q %q", tc.prefix, tc.attrs, row.MetricType, row.DataType, row.AccessMethod, dt, tc.accessMethod)
				}
			}
			return nil
		})
		if err != nil || rows == 0 {
			t.Fatalf("%q %q: %d rows, %v", tc.prefix, tc.attrs, rows, err)
		}
		if got := hasException(doc.Exceptions, 3062); got != (tc.exc == 3062) {
			t.Errorf("%q %q: exceptions %v, want 3062: %v", tc.prefix, tc.attrs, doc.Exceptions, tc.exc == 3062)
		}
	}
}

func hasException(excs []counter.Exception, code int) bool {
	for _, e := range excs {
		if e.Code == code {
			return true
		}
	}
	return false
}

// TestUsageKeepsCOUNTERRelations: in every month of every library the
// simulated counts hold the relations the COUNTER Validator checks between
// metrics of one Data_Type: the first of each pair counts at least the
// second and is there when the second is; a book's or reference work's
// items are of at least one title. Tiny libraries are where rounding down
// would break them.
func TestUsageKeepsCOUNTERRelations(t *testing.T) {
	c := &Config{Seed: 5, First: bibstat.Month{Year: 2025, Mon: 1}, Last: bibstat.Month{Year: 2025, Mon: 12},
		Platforms: []Platform{{ID: "leks", DataType: "Reference_Work", Scale: 25}, {ID: "avis", DataType: "Newspaper_or_Newsletter", Scale: 40}}}
	for i, pop := range []int{30, 80, 150, 400, 2000, 90000} {
		c.Libraries = append(c.Libraries, Library{ID: bibstat.LibraryID(fmt.Sprintf("20301%02d", i)), Population: pop})
	}
	pairs := [][2]string{
		{counter.TotalItemInvestigations, counter.UniqueItemInvestigations}, {counter.TotalItemInvestigations, counter.TotalItemRequests},
		{counter.UniqueItemInvestigations, counter.UniqueItemRequests}, {counter.TotalItemRequests, counter.UniqueItemRequests},
	}
	titles := [][2]string{
		{counter.UniqueItemInvestigations, counter.UniqueTitleInvestigations}, {counter.UniqueItemRequests, counter.UniqueTitleRequests},
		{counter.UniqueTitleInvestigations, counter.UniqueTitleRequests}, {counter.TotalItemRequests, counter.UniqueTitleRequests},
	}
	for _, p := range c.Platforms {
		for _, l := range c.Libraries {
			for _, m := range bibstat.MonthsBetween(c.First, c.Last) {
				u := c.Usage(p.ID, l.ID, m)
				check := pairs
				if p.DataType == "Reference_Work" {
					check = append(append([][2]string{}, pairs...), titles...)
				} else if u[counter.UniqueTitleRequests]+u[counter.UniqueTitleInvestigations] != 0 {
					t.Errorf("%s %s %s: title metrics for %s", p.ID, l.ID, m, p.DataType)
				}
				for _, r := range check {
					if u[r[0]] < u[r[1]] || (u[r[0]] > 0) != (u[r[1]] > 0) {
						t.Errorf("%s %s %s: %s %d, %s %d", p.ID, l.ID, m, r[0], u[r[0]], r[1], u[r[1]])
					}
				}
			}
		}
	}
}
