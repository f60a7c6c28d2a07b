package counter

// The header block of R5 and R5.1 files (labels in column A) and what
// the reader infers when there is none.

import (
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
		if len(c) > 40 {
			continue
		}
		switch norm(string(c)) {
		case "metrictype", "useractivity", "reportingperiodtotal":
			return true
		}
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
			t.r4 = true
			t.doc.Release = "4"
			t.doc.Header.ReportName = c0
			t.doc.ReportID = r4ReportID(c0)
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

// checkHeader settles the release and report id, inferring what the
// header does not say.
func (t *tab) checkHeader(headings []string) error {
	d := t.doc
	if d.Release == "" {
		if t.labels == 0 {
			d.warnf("no header block; assuming release 5")
		} else {
			d.warnf("header without Release; assuming release 5")
		}
		d.Release = "5"
	}
	if d.ReportID == "" {
		has := map[string]bool{}
		for _, h := range headings {
			has[norm(h)] = true
		}
		switch {
		case has["database"]:
			d.ReportID = "DR"
		case has["item"]:
			d.ReportID = "IR"
		case has["title"]:
			d.ReportID = "TR"
		default:
			d.ReportID = "PR"
		}
		d.warnf("no Report_ID; taken as %s from the column headings", d.ReportID)
	}
	return nil
}
