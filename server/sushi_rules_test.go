package server

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat/counter"
)

// The COUNTER Validator's checks of a JSON report (berndoberknapp/c5tools,
// src/data/AttributePerformance51.php, ReportInfo.php, ReportHeader.php),
// as rules over one decoded answer. A rule returns its errors, and
// warnings the Validator reports without failing a report.

// answer is one decoded response and the request that got it.
type answer struct {
	path   string
	q      url.Values
	status int
	body   any
}

// perfUse is one Attribute_Performance of a report, with its item's
// context, as the rules read it.
type perfUse struct {
	where    string
	attrs    map[string]string
	perf     map[string]map[string]float64
	parent   map[string]any // IR: the item's parent group, nil if parentless
	inParent bool
}

type sushiRule struct {
	name  string
	check func(a answer) (errs, warns []string)
}

var sushiRules = []sushiRule{
	{"Institution_ID carries the customer_id as a Proprietary ID", ruleInstitutionID},
	{"Data_Type Platform if and only if Searches_Platform", rulePlatformDataType},
	{"DR searches and denials under a database Data_Type, item metrics never", ruleDatabaseDataType},
	{"Unique_Title metrics only for Book and Reference_Work", ruleUniqueTitleDataType},
	{"metric relations (Total ≥ Unique, Investigations ≥ Requests, Item ≥ Title; present together)", ruleMetricRelations},
	{"counts are positive integers of the reported months", ruleCounts},
	{"one Attribute_Performance per attribute set", ruleUniqueAttributeSets},
	{"Granularity in Report_Attributes only for Totals", ruleGranularity},
	{"Item parents: Article under a Journal, no parent for other types", ruleParents},
	{"header Exceptions are of the codes a report may carry", ruleHeaderExceptions},
	{"Unspecified Data_Type is a warning", ruleUnspecified},
}

func isReport(a answer) bool { return strings.HasPrefix(a.path, "/r51/reports/") && a.status == 200 }

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }
func arr(v any) []any          { s, _ := v.([]any); return s }
func str(v any) string         { s, _ := v.(string); return s }

func header(a answer) map[string]any { return obj(obj(a.body)["Report_Header"]) }

func reportID(a answer) string { return str(header(a)["Report_ID"]) }

// perfUses lists every Attribute_Performance of a report answer.
func perfUses(a answer) []perfUse {
	var out []perfUse
	each := func(where string, it map[string]any, parent map[string]any, inParent bool) {
		for j, ap := range arr(it["Attribute_Performance"]) {
			m := obj(ap)
			pu := perfUse{where: fmt.Sprintf("%s.Attribute_Performance[%d]", where, j), attrs: map[string]string{},
				perf: map[string]map[string]float64{}, parent: parent, inParent: inParent}
			for k, v := range m {
				if k != "Performance" {
					pu.attrs[k] = str(v)
				}
			}
			for metric, counts := range obj(m["Performance"]) {
				pu.perf[metric] = map[string]float64{}
				for month, n := range obj(counts) {
					f, _ := n.(float64)
					pu.perf[metric][month] = f
				}
			}
			out = append(out, pu)
		}
	}
	for i, it := range arr(obj(a.body)["Report_Items"]) {
		m := obj(it)
		if sub, ok := m["Items"]; ok {
			_, hasID := m["Item_ID"]
			for k, c := range arr(sub) {
				each(fmt.Sprintf("Report_Items[%d].Items[%d]", i, k), obj(c), m, hasID)
			}
			continue
		}
		each(fmt.Sprintf("Report_Items[%d]", i), m, nil, false)
	}
	return out
}

func ruleInstitutionID(a answer) (errs, warns []string) {
	cid := a.q.Get("customer_id")
	has := func(ids map[string]any, cid string) bool {
		for _, p := range arr(ids["Proprietary"]) {
			if _, v, ok := strings.Cut(str(p), ":"); ok && v == cid {
				return true
			}
		}
		return false
	}
	switch {
	case isReport(a):
		if !has(obj(header(a)["Institution_ID"]), cid) {
			errs = append(errs, fmt.Sprintf("Institution_ID %v lacks the customer_id %s", header(a)["Institution_ID"], cid))
		}
	case a.path == "/r51/members":
		for _, m := range arr(a.body) {
			if c := str(obj(m)["Customer_ID"]); !has(obj(obj(m)["Institution_ID"]), c) {
				errs = append(errs, "member "+c+": Institution_ID lacks its Customer_ID")
			}
		}
	}
	return errs, nil
}

func rulePlatformDataType(a answer) (errs, warns []string) {
	if !isReport(a) || !strings.HasPrefix(reportID(a), "PR") {
		return nil, nil
	}
	for _, pu := range perfUses(a) {
		_, search := pu.perf[counter.SearchesPlatform]
		if platform := pu.attrs["Data_Type"] == "Platform"; platform != search || platform && len(pu.perf) > 1 {
			errs = append(errs, fmt.Sprintf("%s: Data_Type %q with %d metrics, Searches_Platform %v", pu.where, pu.attrs["Data_Type"], len(pu.perf), search))
		}
	}
	return errs, nil
}

func ruleDatabaseDataType(a answer) (errs, warns []string) {
	if !isReport(a) || reportID(a) != "DR" {
		return nil, nil
	}
	for _, pu := range perfUses(a) {
		db := slices.Contains(databaseTypes, pu.attrs["Data_Type"])
		for metric := range pu.perf {
			if slices.Contains(databaseMetrics, metric) != db {
				errs = append(errs, fmt.Sprintf("%s: %s under Data_Type %q", pu.where, metric, pu.attrs["Data_Type"]))
			}
		}
	}
	return errs, nil
}

func ruleUniqueTitleDataType(a answer) (errs, warns []string) {
	if !isReport(a) {
		return nil, nil
	}
	for _, pu := range perfUses(a) {
		dt, shown := pu.attrs["Data_Type"]
		for metric := range pu.perf {
			if shown && strings.HasPrefix(metric, "Unique_Title_") && !slices.Contains(counter.BookDataTypes, dt) {
				errs = append(errs, fmt.Sprintf("%s: %s for Data_Type %s", pu.where, metric, dt))
			}
		}
	}
	return errs, nil
}

// The Validator's metric pairs: the first is never below the second, and
// present whenever the second is.
var (
	itemRelations = [][2]string{{"Total_Item_Investigations", "Unique_Item_Investigations"}, {"Total_Item_Investigations", "Total_Item_Requests"},
		{"Total_Item_Investigations", "Unique_Item_Requests"}, {"Unique_Item_Investigations", "Unique_Item_Requests"}, {"Total_Item_Requests", "Unique_Item_Requests"}}
	titleRelations = [][2]string{{"Total_Item_Investigations", "Unique_Title_Investigations"}, {"Total_Item_Investigations", "Unique_Title_Requests"},
		{"Unique_Item_Investigations", "Unique_Title_Investigations"}, {"Unique_Item_Investigations", "Unique_Title_Requests"},
		{"Unique_Title_Investigations", "Unique_Title_Requests"}, {"Total_Item_Requests", "Unique_Title_Requests"}, {"Unique_Item_Requests", "Unique_Title_Requests"}}
)

func ruleMetricRelations(a answer) (errs, warns []string) {
	if !isReport(a) {
		return nil, nil
	}
	sp := specByPath(lower(reportID(a)))
	if sp == nil {
		return []string{"unknown Report_ID " + reportID(a)}, nil
	}
	filters := obj(header(a)["Report_Filters"])
	permitted := sp.Metrics
	if m := arr(filters["Metric_Type"]); len(m) > 0 {
		permitted = nil
		for _, x := range m {
			permitted = append(permitted, str(x))
		}
	}
	dataTypes := sp.DataTypes
	if d := arr(filters["Data_Type"]); len(d) > 0 {
		dataTypes = nil
		for _, x := range d {
			dataTypes = append(dataTypes, str(x))
		}
	}
	hasTitles := slices.Contains([]string{"PR_P1", "TR_B1", "TR_B3"}, sp.ID)
	if !sp.view() {
		hasTitles = slices.ContainsFunc(counter.BookDataTypes, func(d string) bool { return slices.Contains(dataTypes, d) }) &&
			(slices.Contains(permitted, counter.UniqueTitleInvestigations) || slices.Contains(permitted, counter.UniqueTitleRequests))
	}
	for _, pu := range perfUses(a) {
		isBook := slices.Contains(counter.BookDataTypes, pu.attrs["Data_Type"])
		months := map[string]bool{}
		for _, c := range pu.perf {
			for m := range c {
				months[m] = true
			}
		}
		compare := func(m1, m2 string, book bool) {
			if !slices.Contains(permitted, m1) || !slices.Contains(permitted, m2) {
				return
			}
			for month := range months {
				n1, ok1 := pu.perf[m1][month]
				n2, ok2 := pu.perf[m2][month]
				switch {
				case !ok1 && ok2:
					errs = append(errs, fmt.Sprintf("%s %s: %s is missing while %s is present", pu.where, month, m1, m2))
				case ok1 && !ok2:
					investigationsVsRequests := strings.HasSuffix(m1, "_Investigations") && strings.HasSuffix(m2, "_Requests")
					itemVsTitle := strings.Contains(m1, "_Item_") && strings.Contains(m2, "_Title_")
					if !investigationsVsRequests && (!itemVsTitle || book) {
						errs = append(errs, fmt.Sprintf("%s %s: %s is missing while %s is present", pu.where, month, m2, m1))
					}
				case ok1 && ok2 && n1 < n2:
					errs = append(errs, fmt.Sprintf("%s %s: less %s than %s", pu.where, month, m1, m2))
				}
			}
		}
		for _, r := range itemRelations {
			compare(r[0], r[1], false)
		}
		if hasTitles {
			for _, r := range titleRelations {
				compare(r[0], r[1], isBook)
			}
		}
	}
	return errs, nil
}

func ruleCounts(a answer) (errs, warns []string) {
	if !isReport(a) {
		return nil, nil
	}
	filters := obj(header(a)["Report_Filters"])
	begin, end := str(filters["Begin_Date"]), str(filters["End_Date"])
	if len(begin) < 7 || len(end) < 7 {
		return []string{"Report_Filters without Begin_Date and End_Date"}, nil
	}
	totals := str(obj(header(a)["Report_Attributes"])["Granularity"]) != ""
	for _, pu := range perfUses(a) {
		if len(pu.perf) == 0 {
			errs = append(errs, pu.where+": empty Performance")
		}
		for metric, c := range pu.perf {
			if len(c) == 0 {
				errs = append(errs, pu.where+": "+metric+" without counts")
			}
			for month, n := range c {
				if n <= 0 || n != float64(int64(n)) {
					errs = append(errs, fmt.Sprintf("%s %s %s: count %v", pu.where, metric, month, n))
				}
				if month < begin[:7] || month > end[:7] || totals && month != begin[:7] {
					errs = append(errs, fmt.Sprintf("%s %s: month %s outside %s..%s (totals %v)", pu.where, metric, month, begin, end, totals))
				}
			}
		}
	}
	return errs, nil
}

func ruleUniqueAttributeSets(a answer) (errs, warns []string) {
	if !isReport(a) {
		return nil, nil
	}
	seen := map[string]string{}
	for _, pu := range perfUses(a) {
		item := pu.where[:strings.LastIndex(pu.where, ".Attribute_Performance")]
		b, _ := json.Marshal(pu.attrs) // map keys sorted
		k := item + string(b)
		if first, dup := seen[k]; dup {
			errs = append(errs, fmt.Sprintf("%s repeats the attributes of %s", pu.where, first))
		}
		seen[k] = pu.where
	}
	return errs, nil
}

func ruleGranularity(a answer) (errs, warns []string) {
	if !isReport(a) {
		return nil, nil
	}
	asked := strings.EqualFold(a.q.Get("granularity"), "totals") && !specByPath(lower(reportID(a))).view()
	if got := obj(header(a)["Report_Attributes"])["Granularity"] != nil; got != asked {
		errs = append(errs, fmt.Sprintf("Granularity in Report_Attributes %v, Totals asked %v", got, asked))
	}
	return errs, nil
}

func ruleParents(a answer) (errs, warns []string) {
	if !isReport(a) || !strings.HasPrefix(reportID(a), "IR") {
		return nil, nil
	}
	parents := reportID(a) == "IR_A1" || str(obj(header(a)["Report_Attributes"])["Include_Parent_Details"]) == "True"
	for _, pu := range perfUses(a) {
		dt := pu.attrs["Data_Type"]
		if reportID(a) == "IR_A1" {
			dt = "Article"
		}
		switch {
		case !parents && pu.inParent:
			errs = append(errs, pu.where+": a parent without Include_Parent_Details")
		case !parents:
		case dt == "Article" && !pu.inParent:
			warns = append(warns, pu.where+": Parent details are missing for an Article")
		case dt == "Article" && pu.parent["Data_Type"] != nil && pu.parent["Data_Type"] != "Journal":
			errs = append(errs, fmt.Sprintf("%s: Article under a %v", pu.where, pu.parent["Data_Type"]))
		case pu.inParent && !slices.Contains([]string{"Article", "Book_Segment", "Conference_Item", "Database_Full_Item", "News_Item", "Reference_Item",
			"Audiovisual", "Image", "Interactive_Resource", "Multimedia", "Sound", "Other", "Patent", "Report", "Standard", "Thesis_or_Dissertation", "Unspecified"}, dt):
			errs = append(errs, fmt.Sprintf("%s: an Item with Data_Type %s must not have a Parent", pu.where, dt))
		}
	}
	return errs, warns
}

func ruleHeaderExceptions(a answer) (errs, warns []string) {
	if !isReport(a) {
		return nil, nil
	}
	for _, e := range arr(header(a)["Exceptions"]) {
		code, _ := obj(e)["Code"].(float64)
		if c := int(code); c >= 1000 && !slices.Contains([]int{3030, 3031, 3032, 3040, 3050, 3060, 3061, 3062, 3063, 3070}, c) {
			errs = append(errs, fmt.Sprintf("exception %d in a report header", c))
		}
	}
	return errs, nil
}

func ruleUnspecified(a answer) (errs, warns []string) {
	if !isReport(a) {
		return nil, nil
	}
	for _, pu := range perfUses(a) {
		if pu.attrs["Data_Type"] == "Unspecified" {
			warns = append(warns, pu.where+": Data_Type Unspecified")
		}
	}
	return nil, warns
}

// checkRules runs every rule over the answers to cases and returns the
// errors and the warnings by rule.
func checkRules(t *testing.T, f *sushiFixture, cases []endpointCase) (errs, warns map[string]int) {
	t.Helper()
	errs, warns = map[string]int{}, map[string]int{}
	for _, tc := range cases {
		status, body := f.get(t, tc.path, tc.q)
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		a := answer{tc.path, tc.q, status, v}
		for _, r := range sushiRules {
			e, w := r.check(a)
			for _, x := range e {
				t.Errorf("%s %s: %s: %s", tc.path, redacted(tc.q), r.name, x)
			}
			errs[r.name] += len(e)
			warns[r.name] += len(w)
		}
	}
	return errs, warns
}

// TestSushiValidatorRules holds every endpoint of the mixed world to the
// COUNTER Validator's rules: 0 errors; the warnings are logged.
func TestSushiValidatorRules(t *testing.T) {
	f := newSushiFixtureOn(t, worldWarehouse)
	cases := worldCases(f)
	_, warns := checkRules(t, f, cases)
	for r, n := range warns {
		if n > 0 {
			t.Logf("warning %q: %d", r, n)
		}
	}
	t.Logf("%d answers checked against %d rules", len(cases), len(sushiRules))
}

// TestSushiRulesCanFail feeds each rule an answer that breaks it: a rule
// that cannot fail checks nothing.
func TestSushiRulesCanFail(t *testing.T) {
	q := url.Values{"customer_id": {"NO-2030100"}, "granularity": {"Totals"}}
	rep := func(id string, attrs map[string]any, items ...any) answer {
		h := map[string]any{"Report_ID": id, "Institution_ID": map[string]any{"ISIL": []any{"NO-2030100"}},
			"Report_Filters": map[string]any{"Begin_Date": "2025-01-01", "End_Date": "2025-02-28"},
			"Exceptions":     []any{map[string]any{"Code": 2010.0}}}
		if attrs != nil {
			h["Report_Attributes"] = attrs
		}
		return answer{"/r51/reports/" + lower(id), q, 200, map[string]any{"Report_Header": h, "Report_Items": items}}
	}
	ap := func(dt string, perf map[string]any) map[string]any {
		return map[string]any{"Data_Type": dt, "Performance": perf}
	}
	counts := func(n float64) map[string]any { return map[string]any{"2025-01": n} }
	item := func(aps ...any) map[string]any { return map[string]any{"Attribute_Performance": aps} }
	bad := map[string]answer{
		"Institution_ID carries the customer_id as a Proprietary ID": rep("PR", nil),
		"Data_Type Platform if and only if Searches_Platform":        rep("PR", nil, item(ap("Book", map[string]any{"Searches_Platform": counts(1)}))),
		"DR searches and denials under a database Data_Type, item metrics never": rep("DR", nil,
			item(ap("Unspecified", map[string]any{"Searches_Regular": counts(1)}))),
		"Unique_Title metrics only for Book and Reference_Work": rep("TR", nil, item(ap("Journal", map[string]any{"Unique_Title_Requests": counts(1)}))),
		"metric relations (Total ≥ Unique, Investigations ≥ Requests, Item ≥ Title; present together)": rep("PR", nil,
			item(ap("Reference_Work", map[string]any{"Total_Item_Investigations": counts(5), "Unique_Item_Investigations": counts(9)}))),
		"counts are positive integers of the reported months": rep("PR", nil, item(ap("Book", map[string]any{"Total_Item_Requests": map[string]any{"2025-03": 0.0}}))),
		"one Attribute_Performance per attribute set":         rep("PR", nil, item(ap("Book", map[string]any{}), ap("Book", map[string]any{}))),
		"Granularity in Report_Attributes only for Totals":    rep("PR", nil),
		"Item parents: Article under a Journal, no parent for other types": rep("IR", map[string]any{"Include_Parent_Details": "True"},
			map[string]any{"Item_ID": map[string]any{"ISBN": "978-82-000-0000-1"}, "Data_Type": "Book", "Items": []any{item(ap("Article", map[string]any{}))}}),
		"header Exceptions are of the codes a report may carry": rep("PR", nil),
		"Unspecified Data_Type is a warning":                    rep("PR", nil, item(ap("Unspecified", map[string]any{}))),
	}
	for _, r := range sushiRules {
		a, ok := bad[r.name]
		if !ok {
			t.Errorf("rule %q has no failing case", r.name)
			continue
		}
		if e, w := r.check(a); len(e)+len(w) == 0 {
			t.Errorf("rule %q passes an answer that breaks it", r.name)
		}
	}
}

// TestSushiValidatorRulesDemo holds the demo's SUSHI server (the one
// "bibstat demo" serves) to the same rules: every report and view, and the
// lists, for every library.
func TestSushiValidatorRulesDemo(t *testing.T) {
	f := newSushiFixture(t)
	var cases []endpointCase
	cases = append(cases, endpointCase{"/r51/members", "Member", url.Values{"customer_id": {ConsortiumCustomerID}, "api_key": {f.tokens["admin"]}}, true})
	for _, li := range f.libs {
		q := url.Values{"customer_id": {li.ID.ISIL()}, "requestor_id": {"admin"}, "api_key": {f.tokens["admin"]},
			"begin_date": {"2025-01"}, "end_date": {"2025-12"}}
		cases = append(cases, endpointCase{"/r51/reports", "Report", q, true})
		for _, sp := range specs {
			cases = append(cases, endpointCase{"/r51/reports/" + lower(sp.ID), sp.ID, q, false})
		}
	}
	_, warns := checkRules(t, f, cases)
	for r, n := range warns {
		if n > 0 {
			t.Logf("warning %q: %d", r, n)
		}
	}
}
