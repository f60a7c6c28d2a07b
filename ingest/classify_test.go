package ingest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/counter"
	"github.com/bibliotek24/bibstat/ingest/sushi"
)

// pr51 is an R5.1 PR for customer c1 with the given filters' months and
// Report_Items text, and header exceptions when excs is not "".
func pr51(begin, end, items, excs string) []byte {
	ex := ""
	if excs != "" {
		ex = `,"Exceptions":` + excs
	}
	return fmt.Appendf(nil, `{"Report_Header":{"Report_Name":"Platform Report","Report_ID":"PR","Release":"5.1",
"Institution_Name":"Oslo","Customer_ID":"c1","Report_Filters":{"Begin_Date":"%s-01","End_Date":"%s"},
"Created":"2025-11-05T10:00:00Z","Created_By":"Test"%s},"Report_Items":%s}`, begin, end, ex, items)
}

// item is one PR item with Total_Item_Requests counts, given as JSON.
func item(counts string) string {
	return `[{"Platform":"Avis","Attribute_Performance":[{"Data_Type":"Newspaper_or_Newsletter","Access_Method":"Regular",
"Performance":{"Total_Item_Requests":` + counts + `}}]}]`
}

// TestClassifyZeroOnlyWhenTheVendorSaysSo is the list: a unit is
// zero only for 3030 or a well-formed empty report; anything else that
// yields no rows fails with its reason, and is retried.
func TestClassifyZeroOnlyWhenTheVendorSaysSo(t *testing.T) {
	oct := bibstat.Month{Year: 2025, Mon: 10}
	j := Job{Unit: bibstat.Unit{Platform: "avis", Credential: "c1", Report: "pr", Month: oct},
		Cred: sushi.Credential{ID: "c1", Platform: "avis", CustomerID: "c1"}}
	tests := []struct {
		name   string
		status int
		body   []byte
		want   bibstat.State
		reason string // a part of the reason, for every state but ok and zero
		empty  bool   // zero only once counter marks the body Empty
	}{
		{"usage", 200, pr51("2025-10", "2025-10-31", item(`{"2025-10":5}`), ""), bibstat.StateOK, "", false},
		{"empty list", 200, pr51("2025-10", "2025-10-31", `[]`, ""), bibstat.StateZero, "", true},
		{"3030", 200, pr51("2025-10", "2025-10-31", `[]`, `[{"Code":3030,"Message":"No Usage Available for Requested Dates"}]`), bibstat.StateZero, "", false},
		{"3030 bare", 200, []byte(`{"Code":3030,"Message":"No Usage Available for Requested Dates"}`), bibstat.StateZero, "", false},
		{"3030 with usage dated another month", 200, pr51("2025-10", "2025-10-31", item(`{"2025-11":5}`), `[{"Code":3030,"Message":"No Usage Available for Requested Dates"}]`), bibstat.StateFailed, "2025-11", false},
		{"3032", 200, pr51("2025-10", "2025-10-31", `[]`, `[{"Code":3032,"Message":"Usage No Longer Available for Requested Dates"}]`), bibstat.StateFailed, "3032", false},
		{"Report_Items an object", 200, pr51("2025-10", "2025-10-31", `{"Platform":"Avis"}`, ""), bibstat.StateFailed, "", false},
		{"Report_Items null", 200, pr51("2025-10", "2025-10-31", `null`, ""), bibstat.StateFailed, "", false},
		{"no Report_Items", 200, bytes.Replace(pr51("2025-10", "2025-10-31", `[]`, ""), []byte(`,"Report_Items":[]`), nil, 1), bibstat.StateFailed, "", false},
		{"count an object", 200, pr51("2025-10", "2025-10-31", item(`{"2025-10":{"n":5}}`), ""), bibstat.StateFailed, "", false},
		{"count an array", 200, pr51("2025-10", "2025-10-31", item(`{"2025-10":[5]}`), ""), bibstat.StateFailed, "", false},
		{"counts an array", 200, pr51("2025-10", "2025-10-31", item(`[5]`), ""), bibstat.StateFailed, "", false},
		{"header as asked, usage in the month and the next", 200, pr51("2025-10", "2025-10-31", item(`{"2025-10":3,"2025-11":5}`), ""), bibstat.StateFailed, "asked for 2025-10, usage dated 2025-11", false},
		{"header as asked, usage dated next month", 200, pr51("2025-10", "2025-10-31", item(`{"2025-11":5}`), ""), bibstat.StateFailed, "asked for 2025-10", false},
		{"header and usage another month", 200, pr51("2025-11", "2025-11-30", item(`{"2025-11":5}`), ""), bibstat.StateFailed, "asked for 2025-10", false},
		{"no period, usage another month", 200, bytes.Replace(pr51("2025-10", "2025-10-31", item(`{"2025-11":5}`), ""), []byte(`"Report_Filters":{"Begin_Date":"2025-10-01","End_Date":"2025-10-31"},`), nil, 1), bibstat.StateFailed, "asked for 2025-10, usage dated 2025-11", false},
		{"a two-month period the only data", 200, r5pr(`{"Begin_Date":"2025-10-01","End_Date":"2025-11-30"}`), bibstat.StateFailed, "2025-11", false},
		{"a two-month period beside the month", 200, r5pr(`{"Begin_Date":"2025-10-01","End_Date":"2025-10-31"}`, `{"Begin_Date":"2025-10-01","End_Date":"2025-11-30"}`), bibstat.StateOK, "", false},
		{"1011 bare", 202, []byte(`{"Code":1011,"Message":"Report Queued for Processing"}`), bibstat.StateQueued, "1011", false},
		{"1011 in a report", 200, pr51("2025-10", "2025-10-31", `[]`, `[{"Code":1011,"Message":"Report Queued for Processing"}]`), bibstat.StateQueued, "1011", false},
		{"3031", 200, pr51("2025-10", "2025-10-31", `[]`, `[{"Code":3031,"Message":"Usage Not Ready for Requested Dates"}]`), bibstat.StateNotReady, "3031", false},
		{"3040 without rows", 200, pr51("2025-10", "2025-10-31", `[]`, `[{"Code":3040,"Message":"Partial Data Returned"}]`), bibstat.StateFailed, "", false},
		{"3040 bare", 200, []byte(`{"Code":3040,"Message":"Partial Data Returned"}`), bibstat.StateFailed, "3040", false},
		{"3040 with rows", 200, pr51("2025-10", "2025-10-31", item(`{"2025-10":5}`), `[{"Code":3040,"Message":"Partial Data Returned"}]`), bibstat.StatePartial, "3040", false},
		{"2020", 401, []byte(`{"Code":2020,"Message":"APIKey Invalid"}`), bibstat.StateCredentialsBroken, "2020", false},
		{"truncated with 3030", 200, []byte(`{"Code":3030,"Message":"No Usage Available for Requested Dates"`), bibstat.StateFailed, "", false},
		{"exceptions list", 200, []byte(`[{"Code":3030,"Message":"No Usage Available for Requested Dates"},{"Code":3031,"Message":"Usage Not Ready"}]`), bibstat.StateNotReady, "3031", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.empty {
				doc, err := counter.Read(context.Background(), bytes.NewReader(tc.body), counter.Options{}, nil)
				if err != nil || !doc.Empty {
					t.Skipf("counter does not mark this body Empty yet (%v)", err)
				}
			}
			o := classify(context.Background(), j, "raw/key", &sushi.Response{Status: tc.status, Body: tc.body})
			if o.state != tc.want {
				t.Fatalf("state %s (%s), want %s", o.state, o.err, tc.want)
			}
			final := tc.want == bibstat.StateOK || tc.want == bibstat.StateZero
			if !final && (o.err == "" || !strings.Contains(o.err, tc.reason)) || tc.want == bibstat.StateOK && o.err != "" {
				t.Errorf("reason %q, want one with %q", o.err, tc.reason)
			}
			if o.state == bibstat.StateFailed && DefaultPolicy.nextAttempt(o.state, 1, 0, time.Unix(0, 0)).IsZero() {
				t.Errorf("a failed unit is not retried")
			}
		})
	}
}

// r5pr is an R5 PR for customer c1, October 2025, with one item counting
// 5 Total_Item_Requests in each of the given Performance periods.
func r5pr(periods ...string) []byte {
	var perf []string
	for _, p := range periods {
		perf = append(perf, `{"Period":`+p+`,"Instance":[{"Metric_Type":"Total_Item_Requests","Count":5}]}`)
	}
	return []byte(`{"Report_Header":{"Report_Name":"Platform Master Report","Report_ID":"PR","Release":"5","Customer_ID":"c1",
"Report_Filters":[{"Name":"Begin_Date","Value":"2025-10-01"},{"Name":"End_Date","Value":"2025-10-31"}]},
"Report_Items":[{"Platform":"Avis","Data_Type":"Newspaper_or_Newsletter","Access_Method":"Regular","Performance":[` + strings.Join(perf, ",") + `]}]}`)
}
