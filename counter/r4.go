package counter

// COUNTER R4: the row-1 report title, the header rows below it, and the
// mapping of R4 reports and User Activity to R5 Metric_Types.

import (
	"regexp"
	"strings"
)

var reR4Title = regexp.MustCompile(`(?i)^(journal|book|database|platform)\s*report\s*(\d)\b.*\(?\s*R4\s*\)?`)

// r4ReportID is the report a row-1 R4 title names: "Journal Report 1
// (R4)" is JR1, "Database Report 1" DB1.
func r4ReportID(title string) string {
	g := reR4Title.FindStringSubmatch(title)
	return strings.ToUpper(g[1][:1]) + map[string]string{"j": "R", "b": "R", "d": "B", "p": "R"}[strings.ToLower(g[1][:1])] + g[2]
}

// r4Header reads an R4 header row: institution name and identifier on rows
// 2 and 3, the period and run date on the rows after their labels.
func (t *tab) r4Header(pre int, cells [][]byte) {
	c0 := cell(cells, 0)
	h := &t.doc.Header
	switch {
	case t.r4Next == "period" && c0 != "":
		t.r4Next = ""
		t.period(c0)
	case t.r4Next == "created" && c0 != "":
		t.r4Next = ""
		h.Created = c0
	case strings.HasPrefix(norm(c0), "periodcovered"):
		if _, _, ok := parsePeriod(c0); ok {
			t.period(c0)
		} else {
			t.r4Next = "period"
		}
	case strings.HasPrefix(norm(c0), "daterun"):
		t.r4Next = "created"
	case pre == 1:
		h.InstitutionName = c0
	case pre == 2:
		h.InstitutionID = c0
	}
}

// r4Metric maps an R4 report (and its User Activity) to an R5 Metric_Type.
func r4Metric(report, activity string) string {
	switch report {
	case "JR1", "BR2":
		return TotalItemRequests
	case "BR1":
		return UniqueTitleRequests
	case "DB1", "PR1":
		a := norm(activity)
		switch {
		case a == "regularsearches":
			if report == "PR1" {
				return SearchesPlatform
			}
			return SearchesRegular
		case strings.Contains(a, "federated") || strings.Contains(a, "automated"):
			return SearchesAutomated
		case a == "resultclicks" || a == "recordviews":
			return TotalItemInvestigations
		}
	}
	return ""
}
