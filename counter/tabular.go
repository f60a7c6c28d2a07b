package counter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/schemas"
)

type colKind uint8

const (
	colIgnore   colKind = iota
	colText             // a text field of the row
	colYOP              // year of publication
	colMetric           // Metric_Type
	colActivity         // R4 User Activity, mapped to a Metric_Type
	colTotal            // Reporting_Period_Total
	colMonth            // one month's counts
)

// column is what one tabular column holds and where it goes.
type column struct {
	kind    colKind
	heading string
	dst     *string // colText: the row field
	last    string  // colText: the previous row's value, reused to spare an allocation
	month   bibstat.Month
	first   time.Time
}

// tab reads one tabular report, whatever the container.
type tab struct {
	ctx  context.Context
	src  rowSource
	doc  *Document
	opts Options
	sink *sink
	row  schemas.Row
	cols []column

	r4        bool
	labels    int    // R5 header labels seen
	r4Next    string // the R4 header value the next row holds
	nameCol   int    // the column naming the item, checked for summary rows
	metricCol int
	totalCol  int
	yopCol    int
	textCols  []int
	monthCols []int
	warned    map[string]bool
}

var reR4Title = regexp.MustCompile(`(?i)^(journal|book|database|platform)\s*report\s*(\d)\b.*\(?\s*R4\s*\)?`)

// r5Labels are the tabular header labels (column A of rows 1-13), folded by norm.
var r5Labels = map[string]bool{
	"reportname": true, "reportid": true, "release": true, "institutionname": true,
	"institutionid": true, "metrictypes": true, "reportfilters": true, "reportattributes": true,
	"exceptions": true, "reportingperiod": true, "created": true, "createdby": true,
	"registryrecord": true, "customerid": true,
}

func readTabular(ctx context.Context, src rowSource, opts Options, emit func(arrow.RecordBatch) error, doc *Document) error {
	t := &tab{ctx: ctx, src: src, doc: doc, opts: opts, nameCol: -1, metricCol: -1, totalCol: -1, yopCol: -1}
	headings, err := t.header()
	if err != nil {
		return err
	}
	if err := t.checkHeader(headings); err != nil {
		return err
	}
	doc.Kind = KindReport
	if headings == nil {
		return nil // a header-only report, e.g. an exception and no usage
	}
	if err := t.columns(headings); err != nil {
		return err
	}
	t.sink = newSink(ctx, doc, opts, emit)
	defer t.sink.release()
	if err := t.body(); err != nil {
		return err
	}
	return t.sink.flush()
}

// warnOnce warns about a quirk once per document, not once per row.
func (t *tab) warnOnce(key, format string, args ...any) {
	if t.warned[key] {
		return
	}
	if t.warned == nil {
		t.warned = map[string]bool{}
	}
	t.warned[key] = true
	t.doc.warnf(format, args...)
}

func cell(cells [][]byte, i int) string {
	if i < 0 || i >= len(cells) {
		return ""
	}
	return strings.TrimSpace(string(cells[i]))
}

func allEmpty(cells [][]byte) bool {
	for _, c := range cells {
		if len(bytes.TrimSpace(c)) > 0 {
			return false
		}
	}
	return true
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
			g := reR4Title.FindStringSubmatch(c0)
			t.doc.ReportID = strings.ToUpper(g[1][:1]) + map[string]string{"j": "R", "b": "R", "d": "B", "p": "R"}[strings.ToLower(g[1][:1])] + g[2]
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

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
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

// ignoredHeadings are columns with nothing the usage schema keeps.
var ignoredHeadings = map[string]bool{
	"": true, "reportingperiodhtml": true, "reportingperiodpdf": true,
	"parentauthors": true, "parentpublicationdate": true, "parentarticleversion": true,
	"componentauthors": true, "componentpublicationdate": true, "componentdoi": true,
	"componentisbn": true, "componentprintissn": true, "componentonlineissn": true,
	"componenturi": true, "componentproprietaryid": true, "linkingissn": true,
	"countryname": true, "countrycode": true, "subdivisionname": true, "subdivisioncode": true,
	"attributed": true, "booksegmentcount": true, "format": true,
}

func (t *tab) field(h string) *string {
	r := &t.row
	switch norm(h) {
	case "title", "journal", "book", "item":
		return &r.Title
	case "database":
		return &r.Database
	case "platform":
		return &r.Platform
	case "publisher":
		return &r.Publisher
	case "publisherid":
		return &r.PublisherID
	case "doi", "journaldoi", "bookdoi", "itemdoi":
		return &r.DOI
	case "proprietaryid", "proprietaryidentifier", "proprietary":
		return &r.ProprietaryID
	case "isbn":
		return &r.ISBN
	case "printissn", "printedissn", "issn":
		return &r.PrintISSN
	case "onlineissn", "eissn":
		return &r.OnlineISSN
	case "uri", "url":
		return &r.URI
	case "datatype":
		return &r.DataType
	case "sectiontype":
		return &r.SectionType
	case "accesstype":
		return &r.AccessType
	case "accessmethod":
		return &r.AccessMethod
	case "authors":
		return &r.Authors
	case "publicationdate":
		return &r.PublicationDate
	case "articleversion":
		return &r.ArticleVersion
	case "parenttitle":
		return &r.ParentTitle
	case "parentdatatype":
		return &r.ParentDataType
	case "parentdoi":
		return &r.ParentDOI
	case "parentisbn":
		return &r.ParentISBN
	case "parentprintissn":
		return &r.ParentPrintISSN
	case "parentonlineissn":
		return &r.ParentOnlineISSN
	case "parenturi":
		return &r.ParentURI
	case "parentproprietaryid":
		return &r.ParentPropID
	case "componenttitle":
		return &r.ComponentTitle
	case "componentdatatype":
		return &r.ComponentDataType
	case "institutionname":
		return &r.InstitutionName
	case "customerid":
		return &r.CustomerID
	}
	return nil
}

// columns maps the headings to row fields and months.
func (t *tab) columns(hs []string) error {
	d := t.doc
	r := &t.row
	*r = schemas.Row{Release: d.Release, ReportID: d.ReportID, CustomerID: d.Header.CustomerID,
		InstitutionID: d.Header.InstitutionID, InstitutionName: d.Header.InstitutionName, SourceKey: t.opts.SourceKey}
	if t.r4 {
		// R4 files put no DataType column; the report says it.
		r.DataType = map[string]string{"JR1": "Journal", "BR1": "Book", "BR2": "Book", "DB1": "Database", "PR1": "Platform"}[d.ReportID]
	}
	t.cols = make([]column, len(hs))
	seen := map[bibstat.Month]bool{}
	for i, h := range hs {
		c := &t.cols[i]
		c.heading = h
		n := norm(h)
		switch {
		case i == 0 && t.r4 && (n == "" || t.field(h) == nil || n == "journal" || n == "title"):
			// R4 leaves the first heading blank or calls it anything.
			c.kind, c.dst = colText, &r.Title
			if d.ReportID == "DB1" {
				c.dst = &r.Database
			} else if d.ReportID == "PR1" {
				c.dst = &r.Platform
			}
		case n == "metrictype":
			c.kind = colMetric
		case n == "useractivity":
			c.kind = colActivity
		case n == "reportingperiodtotal":
			c.kind = colTotal
		case n == "yop":
			c.kind = colYOP
		case t.field(h) != nil:
			c.kind, c.dst = colText, t.field(h)
		case ignoredHeadings[n]:
		default:
			if m, ok := ParseMonth(h); ok {
				c.kind, c.month = colMonth, m
			}
		}
	}
	// A garbled month heading between months ("Jal-2022") is the month its
	// neighbours imply.
	for i := range t.cols {
		c := &t.cols[i]
		if c.kind != colIgnore || ignoredHeadings[norm(c.heading)] {
			continue
		}
		switch {
		case i > 0 && t.cols[i-1].kind == colMonth:
			c.kind, c.month = colMonth, t.cols[i-1].month.Add(1)
		case i+1 < len(t.cols) && t.cols[i+1].kind == colMonth:
			c.kind, c.month = colMonth, t.cols[i+1].month.Add(-1)
		default:
			d.warnf("column %q not understood; ignored", truncate(c.heading, 60))
			continue
		}
		d.warnf("column heading %q is not a month; taken as %s from its neighbours", truncate(c.heading, 60), c.month)
	}
	for i := range t.cols {
		c := &t.cols[i]
		switch c.kind {
		case colText:
			if c.dst == &r.Title || c.dst == &r.Database || (c.dst == &r.Platform && t.nameCol < 0) {
				if t.nameCol < 0 || t.cols[t.nameCol].dst == &r.Platform {
					t.nameCol = i
				}
			}
			t.textCols = append(t.textCols, i)
		case colMetric, colActivity:
			t.metricCol = i
		case colTotal:
			t.totalCol = i
		case colYOP:
			t.yopCol = i
		case colMonth:
			if seen[c.month] {
				d.warnf("column %q repeats month %s; ignored", c.heading, c.month)
				c.kind = colIgnore
				continue
			}
			seen[c.month] = true
			c.first = c.month.First()
			t.monthCols = append(t.monthCols, i)
			if d.FirstColumn.IsZero() || c.month.Before(d.FirstColumn) {
				d.FirstColumn = c.month
			}
			if d.LastColumn.IsZero() || d.LastColumn.Before(c.month) {
				d.LastColumn = c.month
			}
		}
	}
	if t.metricCol < 0 && !t.r4 {
		return errors.New("parse column headings: no Metric_Type column")
	}
	if t.nameCol < 0 && t.labels == 0 && !t.r4 {
		// Without a header block the headings are all there is to go on.
		return errors.New("not a COUNTER document: no header block, and no Platform, Database, Title or Item column")
	}
	if len(t.monthCols) == 0 {
		d.warnf("no month columns (Exclude_Monthly_Details?); no usage is counted")
	}
	return nil
}

// r4Metric maps an R4 report (and its User Activity) to an R5 Metric_Type.
func r4Metric(report, activity string) string {
	switch report {
	case "JR1", "BR2":
		return "Total_Item_Requests"
	case "BR1":
		return "Unique_Title_Requests"
	case "DB1", "PR1":
		a := norm(activity)
		switch {
		case a == "regularsearches":
			if report == "PR1" {
				return "Searches_Platform"
			}
			return "Searches_Regular"
		case strings.Contains(a, "federated") || strings.Contains(a, "automated"):
			return "Searches_Automated"
		case a == "resultclicks" || a == "recordviews":
			return "Total_Item_Investigations"
		}
	}
	return ""
}

// body reads the data rows.
func (t *tab) body() error {
	d := t.doc
	r := &t.row
	ncols := len(t.cols)
	for {
		cells, err := t.src.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if allEmpty(cells) {
			continue
		}
		if len(cells) > ncols && !allEmpty(cells[ncols:]) {
			t.warnOnce("extra", "line %d: more cells than column headings; the extra cells are ignored", t.src.line())
		}
		if t.nameCol >= 0 {
			if name := cell(cells, t.nameCol); isSummary(name) {
				t.warnOnce("summary:"+name, "line %d: summary row %q skipped", t.src.line(), name)
				continue
			}
		}
		for _, i := range t.textCols {
			c := &t.cols[i]
			var b []byte
			if i < len(cells) {
				b = bytes.TrimSpace(cells[i])
			}
			if string(b) != c.last {
				c.last = string(b)
			}
			*c.dst = c.last
		}
		if err := t.metric(cells); err != nil {
			return err
		}
		if r.MetricType == "" {
			continue
		}
		if t.yopCol >= 0 {
			y, ok, err := parseYOP(cell(cells, t.yopCol))
			if err != nil {
				t.warnOnce("yop", "line %d: %v; YOP left empty", t.src.line(), err)
			}
			r.YOP, r.HasYOP = y, ok
		}
		var sum int64
		for _, i := range t.monthCols {
			if i >= len(cells) {
				break
			}
			c := &t.cols[i]
			n, err := parseCount(cells[i])
			if err != nil {
				t.warnOnce("count", "line %d column %q: %v; counted as 0", t.src.line(), c.heading, err)
				continue
			}
			sum += n
			if err := t.sink.add(r, c.month, c.first, n); err != nil {
				return err
			}
		}
		if t.totalCol >= 0 && t.totalCol < len(cells) && len(t.monthCols) > 0 {
			if tot, err := parseCount(cells[t.totalCol]); err == nil && tot != sum && len(bytes.TrimSpace(cells[t.totalCol])) > 0 {
				d.warnf("line %d: Reporting_Period_Total is %d but the months add up to %d", t.src.line(), tot, sum)
			}
		}
	}
}

// metric sets the row's Metric_Type from its column or, in R4, the report.
func (t *tab) metric(cells [][]byte) error {
	r := &t.row
	if !t.r4 {
		var m []byte
		if t.metricCol < len(cells) {
			m = bytes.TrimSpace(cells[t.metricCol])
		}
		if len(m) == 0 {
			t.warnOnce("nometric", "line %d: row without Metric_Type skipped", t.src.line())
		}
		if string(m) != r.MetricType { // no allocation while the metric repeats
			r.MetricType = string(m)
		}
		return nil
	}
	activity := cell(cells, t.metricCol)
	r.MetricType = r4Metric(t.doc.ReportID, activity)
	if r.MetricType == "" {
		t.warnOnce("r4:"+activity, "line %d: %s activity %q has no Metric_Type; skipped", t.src.line(), t.doc.ReportID, activity)
	}
	return nil
}
