package counter

// The header block of R5 and R5.1 files (labels in column A) and what
// the reader infers when there is none.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// r5Labels are the tabular header labels (column A of rows 1-13), folded by norm.
var r5Labels = map[string]bool{
	"reportname": true, "reportid": true, "release": true, "institutionname": true,
	"institutionid": true, "metrictypes": true, "reportfilters": true, "reportattributes": true,
	"exceptions": true, "reportingperiod": true, "created": true, "createdby": true,
	"registryrecord": true, "customerid": true,
}

// isHeadings says whether a row is the column headings row.
// A consortium report's headings begin with Institution_Name, a header
// label, so the label in column A does not decide.
func isHeadings(cells [][]byte) bool {
	for _, c := range cells {
		if len(c) <= 40 && isHeadingName(string(bytes.Trim(c, `" `))) {
			return true
		}
	}
	return false
}

// isHeadingName says whether h is a heading only the headings row has.
func isHeadingName(h string) bool {
	switch norm(h) {
	case "metrictype", "useractivity", "accessdeniedcategory", "reportingperiodtotal":
		return true
	}
	return false
}

// header reads the header block, whatever of it there is, and returns the
// column headings (a copy), or nil at the end of a header-only file.
func (t *tab) header() ([]string, error) {
	const maxHeaderRows = 100
	unknown := 0
	for pre := 0; ; pre++ {
		cells, err := t.src.next()
		if err == io.EOF {
			if t.labels == 0 && !t.r4 {
				return nil, errors.New("not a COUNTER document: no header and no column headings")
			}
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if pre >= maxHeaderRows {
			return nil, fmt.Errorf("line %d: no column headings (Metric_Type) in the first %d rows", t.src.line(), maxHeaderRows)
		}
		if isHeadings(cells) {
			hs := make([]string, len(cells))
			for i := range cells {
				hs[i] = cell(cells, i)
			}
			return hs, nil
		}
		c0 := strings.TrimPrefix(cell(cells, 0), "\ufeff")
		switch {
		case pre == 0 && reR4Title.MatchString(c0):
			id := r4Variant(r4ReportID(c0), cell(cells, 1))
			t.r4, t.r4Title = true, true
			t.doc.Release = "4"
			t.doc.Header.ReportName = c0
			t.doc.ReportID = strings.ToUpper(strings.ReplaceAll(id, " ", "_"))
			if err := r4Check(id); err != nil {
				return nil, err
			}
		case t.r4:
			t.r4Header(pre, cells)
		case allEmpty(cells):
		case r5Labels[norm(c0)]:
			if err := t.r5Header(norm(c0), cell(cells, 1)); err != nil {
				return nil, fmt.Errorf("line %d: %w", t.src.line(), err)
			}
		default:
			// A file whose first rows are neither COUNTER labels nor
			// headings is some other document that happens to have a
			// cell named like a COUNTER column further down.
			if unknown++; t.labels == 0 && unknown > maxUnknownLeadingRows {
				return nil, fmt.Errorf("not a COUNTER document: line %d: the first %d rows are neither a COUNTER header nor column headings", t.src.line(), unknown)
			}
			t.doc.warnf("line %d: header row %q not understood; ignored", t.src.line(), truncate(c0, 60))
		}
	}
}

// maxUnknownLeadingRows is how many rows a file without any COUNTER header
// label may start with before its column headings (vendors put a title or a
// note there).
const maxUnknownLeadingRows = 3

func (t *tab) period(s string) {
	b, e, ok := parsePeriod(s)
	if !ok {
		t.doc.warnf("reporting period %q not understood; months are not checked against it", s)
		return
	}
	t.doc.Header.Begin, t.doc.Header.End = b, e
}

var reTabException = regexp.MustCompile(`(?:^|;\s*)(\d{1,5})\s*:\s*`)

// r5Header reads one R5/R5.1 header row.
func (t *tab) r5Header(label, v string) error {
	t.labels++
	if t.seen == nil {
		t.seen = map[string]bool{}
	}
	t.seen[label] = true
	h := &t.doc.Header
	switch label {
	case "reportname":
		h.ReportName = v
	case "reportid":
		t.doc.ReportID = strings.ToUpper(v)
	case "release":
		r, err := supportedRelease(v)
		if err != nil {
			return err
		}
		if r == "4" {
			return errors.New(`release "4" with an R5 header is not supported`)
		}
		t.doc.Release = r
	case "institutionname":
		h.InstitutionName = v
	case "institutionid":
		h.InstitutionID = v
	case "customerid":
		h.CustomerID = v
	case "reportingperiod":
		t.period(v)
	case "created":
		h.Created = v
	case "createdby":
		h.CreatedBy = v
	case "exceptions":
		t.exceptions(v)
	}
	return nil
}

// exceptions reads "3031: Usage Not Ready (data); 3030: …".
func (t *tab) exceptions(v string) {
	if v == "" {
		return
	}
	idx := reTabException.FindAllStringSubmatchIndex(v, -1)
	if len(idx) == 0 {
		t.doc.warnf("exceptions %q not understood", truncate(v, 80))
		return
	}
	for i, m := range idx {
		end := len(v)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		code, _ := strconv.Atoi(v[m[2]:m[3]])
		msg, data := strings.TrimSpace(v[m[1]:end]), ""
		if j := strings.Index(msg, " ("); j >= 0 && strings.HasSuffix(msg, ")") {
			msg, data = msg[:j], msg[j+2:len(msg)-1]
		}
		t.doc.Exceptions = append(t.doc.Exceptions, Exception{Code: code, Message: msg, Data: data})
	}
}

// requiredLabels are the header rows of a complete R5 block (CoP 5.0.3
// rows 1-12); R5.1 adds Registry_Record. Customer_ID is an extension.
var requiredLabels = []string{"reportname", "reportid", "release", "institutionname", "institutionid",
	"metrictypes", "reportfilters", "reportattributes", "exceptions", "reportingperiod", "created", "createdby"}

// completeHeader says the header block is all there: every R5/R5.1 label
// with a reporting period that reads, or the R4 title and period.
func (t *tab) completeHeader() bool {
	h := &t.doc.Header
	if h.Begin.IsZero() || h.End.IsZero() {
		return false
	}
	if t.r4 {
		return t.r4Title
	}
	for _, l := range requiredLabels {
		if !t.seen[l] {
			return false
		}
	}
	return t.doc.Release != "5.1" || t.seen["registryrecord"]
}

// checkHeader settles the release and report id, inferring what the
// header does not say from the column headings, and refusing a file that
// would otherwise be read as a report it is not.
func (t *tab) checkHeader(headings []string) error {
	d := t.doc
	has := map[string]bool{}
	for _, h := range headings {
		has[norm(h)] = true
	}
	r4Cols := has["useractivity"] || has["accessdeniedcategory"]
	switch {
	case headings == nil || t.r4:
	case t.labels == 0 && (r4Cols || !has["metrictype"]):
		id, err := r4ByColumns(has)
		if err != nil {
			return err
		}
		t.r4 = true
		d.Release, d.ReportID = "4", id
		d.warnf("no header block; taken as R4 %s from its column headings", id)
		return nil
	case r4Cols && !has["metrictype"]:
		return errors.New("an R5 header block over R4 columns (User Activity or Access Denied Category, no Metric_Type): not read as either")
	}
	if d.Release == "" {
		if t.labels == 0 {
			d.warnf("no header block; assuming release 5")
		} else {
			d.warnf("header without Release; assuming release 5")
		}
		d.Release = "5"
	}
	if !t.r4 && headings != nil {
		t.settleReportID(has)
	}
	return nil
}

// r4ByColumns recognises an R4 report without its header block by its
// columns, or refuses it: a JR1 and its subset JR1 GOA (or BR1 and BR2)
// have the same columns, so a file with neither Metric_Type nor a User
// Activity or Access Denied Category column is not guessed at.
func r4ByColumns(has map[string]bool) (string, error) {
	switch {
	case has["useractivity"] && has["database"]:
		return "DB1", nil
	case has["useractivity"] && has["platform"]:
		return "PR1", nil
	case has["accessdeniedcategory"] && has["database"]:
		return "DB2", nil
	case has["accessdeniedcategory"] && has["isbn"]:
		return "BR3", nil
	case has["accessdeniedcategory"] && (has["printissn"] || has["onlineissn"] || has["journal"]):
		return "JR2", nil
	}
	return "", errors.New("not a report that can be told: no header block, and its columns name no Metric_Type " +
		"(R5), User Activity or Access Denied Category (R4) with the items' column")
}

// settleReportID decides an R5 report's ID by its Report_ID, Report_Name
// and columns: where the Report_ID disagrees with the columns, the name
// (or else the columns) decides, with a warning.
func (t *tab) settleReportID(has map[string]bool) {
	d := t.doc
	cols := "PR"
	switch {
	case has["item"]:
		cols = "IR"
	case has["database"]:
		cols = "DR"
	case has["title"]:
		cols = "TR"
	}
	byName := reportByName(d.Header.ReportName)
	switch {
	case d.ReportID == "" && byName != "" && master(byName) == cols:
		d.ReportID = byName
		d.warnf("no Report_ID; taken as %s from the Report_Name %q", byName, d.Header.ReportName)
	case d.ReportID == "":
		d.ReportID = cols
		d.warnf("no Report_ID; taken as %s from the column headings", d.ReportID)
	case master(d.ReportID) == cols:
	case byName != "" && master(byName) == cols:
		d.warnf("Report_ID %s disagrees with the Report_Name %q and the columns; taken as %s", d.ReportID, d.Header.ReportName, byName)
		d.ReportID = byName
	default:
		d.warnf("Report_ID %s disagrees with the columns, which are %s's; taken as %s", d.ReportID, cols, cols)
		d.ReportID = cols
	}
}
