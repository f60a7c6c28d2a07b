package counter

// The column headings: which row field, metric or month each column holds.

import (
	"errors"
	"fmt"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/schemas"
)

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
	case "publisher", "contentprovider":
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
		r.DataType = r4Reports[d.ReportID].dataType
	}
	t.cols = make([]column, len(hs))
	for i, h := range hs {
		c := &t.cols[i]
		c.heading = h
		n := norm(h)
		switch {
		case i == 0 && t.r4 && (n == "" || t.field(h) == nil || n == "journal" || n == "title"):
			// R4 leaves the first heading blank or calls it anything.
			c.kind, c.dst = colText, t.r4First(d.ReportID)
		case n == "metrictype":
			c.kind = colMetric
		case n == "useractivity", n == "accessdeniedcategory":
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
	t.guessMonths()
	t.placeMonths()
	t.index()
	if t.metricCol < 0 && !t.r4 {
		return errors.New("parse column headings: no Metric_Type column")
	}
	if t.metricCol < 0 && t.r4 && r4Reports[d.ReportID].metric == "" {
		return fmt.Errorf("parse column headings: R4 %s without a User Activity or Access Denied Category column", d.ReportID)
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

// guessMonths takes a garbled month heading between months ("Jal-2022")
// as the month its neighbours imply.
func (t *tab) guessMonths() {
	d := t.doc
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
}

// placeMonths lets the reporting period decide the month columns when
// their headings disagree with it: "11-Feb" in a 2013 report is February
// 2013, the second month, not February 2011. Headings that all read as
// distinct months of the period are trusted as they are (in any order);
// otherwise, when there is one month column per month of the period, the
// k-th is the period's k-th month, with a warning for each that read
// otherwise. With a different number of columns the text stands, and
// counts it dates outside the period are set aside by the sink.
func (t *tab) placeMonths() {
	h := &t.doc.Header
	if h.Begin.IsZero() || h.End.IsZero() {
		return
	}
	var months []int
	seen := map[bibstat.Month]bool{}
	agree := true
	for i := range t.cols {
		if c := &t.cols[i]; c.kind == colMonth {
			months = append(months, i)
			if c.month.Before(h.Begin) || h.End.Before(c.month) || seen[c.month] {
				agree = false
			}
			seen[c.month] = true
		}
	}
	if agree || len(months) != periodMonths(h.Begin, h.End) {
		return
	}
	for k, i := range months {
		c := &t.cols[i]
		if want := h.Begin.Add(k); c.month != want {
			t.doc.warnf("column %q reads as %s, but it is month %d of the reporting period %s to %s; taken as %s",
				truncate(c.heading, 60), c.month, k+1, h.Begin, h.End, want)
			c.month = want
		}
	}
}

// periodMonths is the number of months from b to e, both included.
func periodMonths(b, e bibstat.Month) int {
	return (e.Year-b.Year)*12 + int(e.Mon) - int(b.Mon) + 1
}

// index finds the columns body reads by kind: the item's name, the
// metric, total and YOP, the text fields and the months (each once).
func (t *tab) index() {
	d := t.doc
	r := &t.row
	seen := map[bibstat.Month]bool{}
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
}
