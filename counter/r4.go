package counter

// COUNTER R4: the row-1 report title, the header rows below it, and the
// mapping of each R4 report (and its User Activity or Access Denied
// Category) to R5 Metric_Types (COUNTER.md §3, CoP R5 appendix B.1).

import (
	"regexp"
	"strings"
)

// reR4Title reads a row-1 R4 title: "Journal Report 1 (R4)", "Journal
// Report 1 GOA (R4)", "Journal Report 1a (R4)", "Book Report 2 (R4)",
// "Multimedia Report 1 (R4)"; the groups are the kind, the number and the
// variant (GOA, a, Mobile).
var reR4Title = regexp.MustCompile(`(?i)^(journal|book|database|platform|multimedia|title|consortium)\s*report\s*(\d{1,2})(?:\s*(goa|mobile)|(a))?\b.*\bR4\b`)

// r4Report is what one R4 report is in R5 terms.
type r4Report struct {
	dataType string // the Data_Type of its rows (an R4 file has no Data_Type column)
	first    string // the row field its first column names
	denials  bool   // its rows are denials by category (JR2, BR3, DB2)
	metric   string // the one Metric_Type of a report whose rows carry none
}

// r4Reports are the R4 reports read, with their R5 counterparts (TR_J1,
// TR_J2, TR_B1, TR_B2, DR_D1, DR_D2, PR_P1, DR).
var r4Reports = map[string]r4Report{
	"JR1": {dataType: "Journal", first: "title", metric: TotalItemRequests},
	"JR2": {dataType: "Journal", first: "title", denials: true},
	"BR1": {dataType: "Book", first: "title", metric: UniqueTitleRequests},
	"BR2": {dataType: "Book", first: "title", metric: TotalItemRequests},
	"BR3": {dataType: "Book", first: "title", denials: true},
	"DB1": {dataType: "Database", first: "database"},
	"DB2": {dataType: "Database", first: "database", denials: true},
	"PR1": {dataType: "Platform", first: "platform"},
	"MR1": {dataType: "Multimedia", first: "database", metric: TotalItemRequests},
}

// r4Refused says why an R4 report that is recognised is not loaded.
var r4Refused = map[string]string{
	"JR1 GOA": "its usage is part of JR1 (loading both would count it twice)",
	"JR1a":    "its usage is part of JR1 (loading both would count it twice)",
	"JR5":     "its columns are years of publication, not months: it is not monthly usage",
	"CR1":     "it sums its members' usage (loading it beside theirs would count it twice)",
	"CR2":     "it sums its members' usage (loading it beside theirs would count it twice)",
	"CR3":     "it sums its members' usage (loading it beside theirs would count it twice)",
}

// ReportRefusedError is a report recognised by its name and not loaded:
// an R4 report that is a subset of another, not monthly usage, or not one
// BibStat maps to R5.
type ReportRefusedError struct {
	Report string // as COUNTER names it, e.g. "JR1 GOA"
	Why    string
}

func (e *ReportRefusedError) Error() string { return e.Report + " is not loaded: " + e.Why }

// r4ReportID is the report a row-1 R4 title names: "Journal Report 1
// (R4)" is JR1, "Journal Report 1 GOA (R4)" JR1 GOA, "Journal Report 1a
// (R4)" JR1a, "Database Report 1" DB1.
func r4ReportID(title string) string {
	g := reR4Title.FindStringSubmatch(title)
	if g == nil {
		return ""
	}
	kind := map[string]string{"journal": "JR", "book": "BR", "database": "DB", "platform": "PR",
		"multimedia": "MR", "title": "TR", "consortium": "CR"}[strings.ToLower(g[1])]
	id := kind + g[2]
	switch {
	case strings.EqualFold(g[3], "goa"):
		id += " GOA"
	case strings.EqualFold(g[3], "mobile"):
		id += " Mobile"
	case g[4] != "":
		id += "a"
	}
	return id
}

var (
	reGOA     = regexp.MustCompile(`(?i)\bgold open access\b|\bgoa\b`)
	reArchive = regexp.MustCompile(`(?i)\barchive\b`)
)

// r4Variant is id as its row-1 description tells it: a "Journal Report
// 1 (R4)" whose description counts Gold Open Access or archive requests
// is the JR1 GOA or JR1a it describes, a subset of JR1 however it is titled.
func r4Variant(id, description string) string {
	switch {
	case id != "JR1":
	case reGOA.MatchString(description):
		return "JR1 GOA"
	case reArchive.MatchString(description):
		return "JR1a"
	}
	return id
}

// r4Check refuses an R4 report that is not loaded, by its name.
func r4Check(id string) error {
	if why, ok := r4Refused[id]; ok {
		return &ReportRefusedError{Report: id, Why: why}
	}
	if _, ok := r4Reports[id]; !ok {
		return &ReportRefusedError{Report: id, Why: "BibStat reads the R4 reports JR1, JR2, BR1, BR2, BR3, DB1, DB2, PR1 and MR1 only"}
	}
	return nil
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

// r4First is the row field an R4 report's first column names.
func (t *tab) r4First(report string) *string {
	r := &t.row
	switch r4Reports[report].first {
	case "database":
		return &r.Database
	case "platform":
		return &r.Platform
	}
	return &r.Title
}

// r4Metric maps an R4 report and its row's User Activity or Access
// Denied Category to an R5 Metric_Type, "" when there is none: the row is
// then refused, never loaded under an R4 name.
func r4Metric(report, activity string) string {
	rep := r4Reports[report]
	if rep.metric != "" {
		return rep.metric
	}
	a := norm(activity)
	if rep.denials {
		return r4Denial(a)
	}
	switch report {
	case "DB1", "PR1":
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

// r4Denial maps an R4 Access Denied Category, folded by norm, to
// Limit_Exceeded or No_License: "Access denied: concurrent/simultaneous
// user licence limit exceeded" (and the R4 SUSHI "turnaway"), "Access
// denied: content item not licensed" ("no_license").
func r4Denial(a string) string {
	switch {
	case strings.Contains(a, "limitexceeded") || strings.Contains(a, "turnaway") ||
		strings.Contains(a, "concurrent") || strings.Contains(a, "simultaneous"):
		return LimitExceeded
	case strings.Contains(a, "notlicen") || strings.Contains(a, "nolicen"):
		return NoLicense
	}
	return ""
}
