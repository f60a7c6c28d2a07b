package sushi

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/counter"
	"github.com/bibliotek24/bibstat/internal/sushisim"
	"github.com/bibliotek24/bibstat/schemas"
)

func TestReportNeverLeaksSecrets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.URL.Query().Get("api_key"); got != "s3cret-key" {
			t.Errorf("server got api_key %q", got)
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	cred := Credential{ID: "2030100", Platform: "p", BaseURL: srv.URL + "/r51/", Release: "5.1",
		CustomerID: "c1", RequestorID: "req-secret", APIKey: "s3cret-key"}
	m := bibstat.Month{Year: 2025, Mon: 1}
	resp, err := (&Client{}).Report(context.Background(), cred, "pr", m, m)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(resp.URL, "s3cret") || strings.Contains(resp.URL, "req-secret") {
		t.Errorf("response URL leaks a secret: %s", resp.URL)
	}
	if !strings.Contains(resp.URL, "/r51/reports/pr?") {
		t.Errorf("URL %s: want one /r51 and the pr path", resp.URL)
	}

	srv.Close() // now the transport fails; its error must not leak either
	_, err = (&Client{}).Report(context.Background(), cred, "pr", m, m)
	if err == nil {
		t.Fatal("want a transport error")
	}
	if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "req-secret") {
		t.Errorf("error leaks a secret: %v", err)
	}
}

func TestReportBodyLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("x", 100)))
	}))
	defer srv.Close()
	cred := Credential{ID: "1", Platform: "p", BaseURL: srv.URL, Release: "5.1", CustomerID: "c"}
	m := bibstat.Month{Year: 2025, Mon: 1}
	if _, err := (&Client{MaxBody: 99}).Report(context.Background(), cred, "pr", m, m); err == nil {
		t.Fatal("want an error for a body over the limit")
	}
	if _, err := (&Client{MaxBody: 100}).Report(context.Background(), cred, "pr", m, m); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
}

// TestReportAsksForMandatoryColumns: each master report is asked for the
// attributes that carry the columns COUNTER R5.1 makes mandatory. R5 must
// be asked for Data_Type; R5.1 shows it always and refuses it as an
// attribute (3062), and Standard Views take none.
func TestReportAsksForMandatoryColumns(t *testing.T) {
	var got string
	var has bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, has = r.URL.Query().Get("attributes_to_show"), r.URL.Query().Has("attributes_to_show")
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	tests := []struct {
		release string
		report  bibstat.ReportID
		want    string // "" means no attributes_to_show at all
	}{
		{"5", "pr", "Data_Type|Access_Method"},
		{"5", "dr", "Data_Type|Access_Method"},
		{"5", "tr", "Data_Type|YOP|Access_Type|Access_Method"},
		{"5", "ir", "Data_Type|Access_Method"},
		{"5.1", "pr", "Access_Method"},
		{"5.1", "dr", "Access_Method"},
		{"5.1", "tr", "YOP|Access_Type|Access_Method"},
		{"5.1", "ir", "Access_Method"},
		{"5", "pr_p1", ""}, {"5.1", "dr_d1", ""}, {"5.1", "tr_j1", ""},
	}
	m := bibstat.Month{Year: 2025, Mon: 1}
	for _, tc := range tests {
		cred := Credential{ID: "1", Platform: "p", BaseURL: srv.URL, Release: tc.release, CustomerID: "c"}
		if _, err := (&Client{}).Report(context.Background(), cred, tc.report, m, m); err != nil {
			t.Fatal(err)
		}
		if got != tc.want || has != (tc.want != "") {
			t.Errorf("R%s %s: attributes_to_show %q (sent: %v), want %q", tc.release, tc.report, got, has, tc.want)
		}
	}
}

// TestR5ReportCarriesDataType: against a simulated R5 vendor, which shows
// Data_Type only when asked, every row the client fetches has one.
func TestR5ReportCarriesDataType(t *testing.T) {
	world := &sushisim.Config{Seed: 1, First: bibstat.Month{Year: 2025, Mon: 1}, Last: bibstat.Month{Year: 2025, Mon: 1},
		Platforms: []sushisim.Platform{{ID: "leks", DataType: "Reference_Work", Scale: 30}},
		Libraries: []sushisim.Library{{ID: "2030100", Name: "Oslo", Population: 50000}}}
	srv := httptest.NewServer(world.Handler("leks"))
	defer srv.Close()
	cred := Credential{ID: "2030100", Platform: "leks", BaseURL: srv.URL, Release: "5",
		CustomerID: world.CustomerID("2030100"), APIKey: world.APIKey("leks", "2030100")}
	m := bibstat.Month{Year: 2025, Mon: 1}
	resp, err := (&Client{}).Report(context.Background(), cred, "pr", m, m)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("report: %v %+v", err, resp)
	}
	var rows int
	_, err = counter.Read(context.Background(), bytes.NewReader(resp.Body), counter.Options{}, func(rec arrow.RecordBatch) error {
		defer rec.Release()
		var r schemas.Row
		for i := range int(rec.NumRows()) {
			r.SetFrom(rec, i)
			rows++
			if want := map[bool]string{true: "Platform", false: "Reference_Work"}[r.MetricType == counter.SearchesPlatform]; r.DataType != want {
				t.Errorf("%s: Data_Type %q, want %q", r.MetricType, r.DataType, want)
			}
		}
		return nil
	})
	if err != nil || rows == 0 {
		t.Fatalf("read: %d rows, %v", rows, err)
	}
}
