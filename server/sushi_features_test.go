package server

import (
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"testing"
)

// worldQuery asks for the whole world's months as the consortium's admin.
func worldQuery(f *sushiFixture, lib int, kv ...string) url.Values {
	q := url.Values{"customer_id": {f.libs[lib].ID.ISIL()}, "requestor_id": {"admin"}, "api_key": {f.tokens["admin"]},
		"begin_date": {"2024-11"}, "end_date": {"2025-03"}}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return q
}

func getJSON(t *testing.T, f *sushiFixture, path string, q url.Values, v any) {
	t.Helper()
	status, body := f.get(t, path, q)
	if status != 200 {
		t.Fatalf("%s: status %d: %s", path, status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestSushiReportList: /r51/reports lists each report served by the
// Report_ID its Report_Header says, at its CoP path, and every report of
// each master with months loaded; a report it lists answers with that ID.
func TestSushiReportList(t *testing.T) {
	for _, w := range []struct {
		name    string
		fixture func(*testing.T) *sushiFixture
		masters []string
	}{
		{"world", func(t *testing.T) *sushiFixture { return newSushiFixtureOn(t, worldWarehouse) }, []string{"PR", "DR", "TR", "IR"}},
		{"demo", newSushiFixture, []string{"PR"}},
	} {
		t.Run(w.name, func(t *testing.T) {
			f := w.fixture(t)
			var list []struct{ Report_ID, Report_Name, Path, First_Month_Available, Last_Month_Available string }
			getJSON(t, f, "/r51/reports", worldQuery(f, 0), &list)
			var ids []string
			for _, r := range list {
				ids = append(ids, r.Report_ID)
				if r.Path != "/r51/reports/"+lower(r.Report_ID) || r.Last_Month_Available < r.First_Month_Available {
					t.Errorf("%+v", r)
				}
				var rep struct {
					Header struct{ Report_ID, Report_Name string } `json:"Report_Header"`
				}
				getJSON(t, f, r.Path, worldQuery(f, 0), &rep)
				if rep.Header.Report_ID != r.Report_ID || rep.Header.Report_Name != r.Report_Name {
					t.Errorf("%s lists %s %q, its header says %s %q", r.Path, r.Report_ID, r.Report_Name, rep.Header.Report_ID, rep.Header.Report_Name)
				}
			}
			var want []string
			for _, sp := range specs {
				if slices.Contains(w.masters, sp.Master) {
					want = append(want, sp.ID)
				}
			}
			if !slices.Equal(ids, want) {
				t.Errorf("lists %v, want %v", ids, want)
			}
		})
	}
}

type irReport struct {
	Header struct {
		Attributes map[string]any `json:"Report_Attributes"`
	} `json:"Report_Header"`
	Items []struct {
		Title    string
		DataType string            `json:"Data_Type"`
		ItemID   map[string]string `json:"Item_ID"`
		Items    []struct {
			Item string
			AP   []struct {
				Performance map[string]map[string]int64
			} `json:"Attribute_Performance"`
		}
	} `json:"Report_Items"`
}

// TestSushiParents: with Include_Parent_Details an article sits under its
// journal, R5's Item_Parent and R5.1's parent alike; without, every item
// sits in one parentless group.
func TestSushiParents(t *testing.T) {
	f := newSushiFixtureOn(t, worldWarehouse)
	var with, without irReport
	getJSON(t, f, "/r51/reports/ir", worldQuery(f, 0, "include_parent_details", "True"), &with)
	getJSON(t, f, "/r51/reports/ir", worldQuery(f, 0), &without)
	if len(without.Items) != 1 || without.Items[0].ItemID != nil {
		t.Errorf("without parents: %d groups, first %+v", len(without.Items), without.Items[0].ItemID)
	}
	if with.Header.Attributes["Include_Parent_Details"] != "True" {
		t.Errorf("Report_Attributes %v", with.Header.Attributes)
	}
	articles := map[string]bool{}
	for _, g := range with.Items {
		if g.ItemID["Online_ISSN"] == "1234-5678" && g.DataType == "Journal" {
			for _, it := range g.Items {
				articles[it.Item] = true
			}
		}
	}
	if !articles["En artikkel"] || !articles["En eldre artikkel"] {
		t.Errorf("articles under the journal: %v", articles)
	}
}

// TestSushiTotals: Granularity=Totals gives each metric one count, the sum
// of the months, under the first month.
func TestSushiTotals(t *testing.T) {
	f := newSushiFixtureOn(t, worldWarehouse)
	sums := func(q url.Values) map[string]map[string]int64 {
		var rep struct {
			Items []struct {
				Platform string
				AP       []struct {
					DataType    string `json:"Data_Type"`
					Performance map[string]map[string]int64
				} `json:"Attribute_Performance"`
			} `json:"Report_Items"`
		}
		getJSON(t, f, "/r51/reports/pr", q, &rep)
		out := map[string]map[string]int64{}
		for _, it := range rep.Items {
			for _, ap := range it.AP {
				for metric, c := range ap.Performance {
					k := it.Platform + "/" + ap.DataType + "/" + metric
					if out[k] == nil {
						out[k] = map[string]int64{}
					}
					for month, n := range c {
						out[k][month] += n
						out[k]["total"] += n
					}
				}
			}
		}
		return out
	}
	monthly, totals := sums(worldQuery(f, 0)), sums(worldQuery(f, 0, "granularity", "Totals"))
	if len(monthly) == 0 || len(monthly) != len(totals) {
		t.Fatalf("%d monthly series, %d totals", len(monthly), len(totals))
	}
	for k, m := range monthly {
		if tot := totals[k]; len(tot) != 2 || tot["2024-11"] != m["total"] {
			t.Errorf("%s: totals %v, months sum to %d", k, tot, m["total"])
		}
	}
}

// TestSushiOneRelease: "nyheter" was harvested in both releases for
// January 2025; its PR counts that month once, from R5.1 (R5's would add
// its Data_Type Database usage as Unspecified).
func TestSushiOneRelease(t *testing.T) {
	f := newSushiFixtureOn(t, worldWarehouse)
	var rep struct {
		Items []struct {
			AP []struct {
				DataType    string `json:"Data_Type"`
				Performance map[string]map[string]int64
			} `json:"Attribute_Performance"`
		} `json:"Report_Items"`
	}
	getJSON(t, f, "/r51/reports/pr", worldQuery(f, 0, "platform", "nyheter", "begin_date", "2025-01", "end_date", "2025-01"), &rep)
	got := map[string]int64{}
	for _, it := range rep.Items {
		for _, ap := range it.AP {
			if n, ok := ap.Performance["Total_Item_Requests"]["2025-01"]; ok {
				got[ap.DataType] += n
			}
		}
	}
	// R5.1: b = 11; Newspaper_or_Newsletter 4b plus TDM's 4, Book 4(b+1), Reference_Work 4(b+2).
	want := map[string]int64{"Newspaper_or_Newsletter": 48, "Book": 48, "Reference_Work": 52}
	if !maps.Equal(got, want) {
		t.Errorf("January 2025 Total_Item_Requests by Data_Type %v, want %v", got, want)
	}
}

// metricSums sums a report answer's counts by metric.
func metricSums(t *testing.T, f *sushiFixture, path string, q url.Values) map[string]int64 {
	t.Helper()
	var rep map[string]any
	getJSON(t, f, path, q, &rep)
	out := map[string]int64{}
	for _, pu := range perfUses(answer{path, q, 200, rep}) {
		for metric, c := range pu.perf {
			for _, n := range c {
				out[metric] += int64(n)
			}
		}
	}
	return out
}

// TestSushiSumsAgree: however a master report is asked for (attributes
// shown or not, by month or in total, parents or not) its counts add up to
// the same per metric, and the PR's to the warehouse's chosen usage: the
// server neither loses a use nor counts one twice.
func TestSushiSumsAgree(t *testing.T) {
	f := newSushiFixtureOn(t, worldWarehouse)
	for i, li := range f.libs {
		for _, sp := range specs {
			if sp.view() {
				continue
			}
			path := "/r51/reports/" + lower(sp.ID)
			base := metricSums(t, f, path, worldQuery(f, i))
			if len(base) == 0 {
				t.Errorf("%s %s: no usage", li.ID, sp.ID)
			}
			for _, kv := range [][]string{{"attributes_to_show", joinPipe(sp.Attrs)}, {"granularity", "Totals"},
				{"include_parent_details", "True"}, {"granularity", "Totals", "attributes_to_show", joinPipe(sp.Attrs)}} {
				if kv[0] == "include_parent_details" && sp.Master != "IR" {
					continue
				}
				if got := metricSums(t, f, path, worldQuery(f, i, kv...)); !maps.Equal(got, base) {
					t.Errorf("%s %s %v: %v, plain %v", li.ID, sp.ID, kv, got, base)
				}
			}
			if sp.ID != "PR" {
				continue
			}
			want := map[string]int64{}
			rows, err := f.db.Query(`SELECT metric_type, sum(count)::BIGINT FROM usage_chosen
				WHERE target_kind = 'library' AND target_id = ? AND upper(report_id) = 'PR' GROUP BY ALL`, string(li.ID))
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var m string
				var n int64
				if err := rows.Scan(&m, &n); err != nil {
					t.Fatal(err)
				}
				want[m] = n
			}
			rows.Close()
			if !maps.Equal(base, want) {
				t.Errorf("%s PR %v, usage_chosen %v", li.ID, base, want)
			}
		}
	}
}
