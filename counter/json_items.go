package counter

// Report_Items in the R5 layout (Performance per period) and the R5.1
// layout (Attribute_Performance, items grouped under a parent).

import (
	"fmt"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/schemas"
)

// items streams the Report_Items array.
func (jr *jsonReader) items(root *jnode, depth int) error {
	for jr.dec.More() {
		if err := jr.ctx.Err(); err != nil {
			return err
		}
		tok, err := jr.token()
		if err != nil {
			return err
		}
		it, err := jr.value(tok, depth+1, "Report_Items")
		if err != nil {
			return err
		}
		jr.nItems++
		if !jr.header && looksLikeHeader(root) {
			jr.doc.warnf("report header fields at the top level, without Report_Header")
			if err := jr.setHeader(root, root); err != nil {
				return err
			}
		}
		if !jr.header {
			// Out of order: the header must come first to stamp the rows.
			if len(jr.pending) == 0 {
				jr.doc.warnf("Report_Items before Report_Header; items are held until the header arrives")
			}
			jr.pending = append(jr.pending, it)
			continue
		}
		if err := jr.item(it); err != nil {
			return err
		}
	}
	_, err := jr.token()
	return err
}

// item reads one Report_Item in either layout.
func (jr *jsonReader) item(it *jnode) error {
	if it.kind != '{' {
		jr.sink.skip(1, "a report item is not an object; skipped")
		return nil
	}
	jr.checkShape(it)
	r := &jr.row
	*r = jr.base
	if children := it.get("Items"); children != nil && children.kind == '[' {
		// R5.1 IR: a parent with its items.
		parent := jr.base
		parent.ParentTitle = it.str1("Title")
		parent.ParentDataType = it.str1("Data_Type")
		setIDs(&parent.ParentDOI, &parent.ParentISBN, &parent.ParentPrintISSN, &parent.ParentOnlineISSN,
			&parent.ParentURI, &parent.ParentPropID, it.get("Item_ID"))
		for _, c := range children.vals {
			*r = parent
			if err := jr.item51(c); err != nil {
				return err
			}
		}
		return nil
	}
	if it.get("Attribute_Performance") != nil {
		return jr.item51(it)
	}
	if it.get("Performance") != nil || it.get("Item_Component") != nil {
		return jr.item5(it)
	}
	jr.doc.warnf("report item %q has no Performance; skipped", itemName(it))
	return nil
}

func itemName(it *jnode) string {
	for _, k := range []string{"Title", "Item", "Database", "Platform"} {
		if s := it.str1(k); s != "" {
			return s
		}
	}
	return ""
}

// itemFields fills the columns both layouts share.
func (jr *jsonReader) itemFields(it *jnode) bool {
	r := &jr.row
	r.Title = it.str1("Title")
	if r.Title == "" {
		r.Title = it.str1("Item")
	}
	r.Database = it.str1("Database")
	r.Platform = it.str1("Platform")
	r.Publisher = it.str1("Publisher")
	r.PublisherID = idList(it.get("Publisher_ID"))
	setIDs(&r.DOI, &r.ISBN, &r.PrintISSN, &r.OnlineISSN, &r.URI, &r.ProprietaryID, it.get("Item_ID"))
	if name := itemName(it); isSummary(name) {
		jr.doc.warnf("summary item %q skipped", name)
		return false
	}
	return true
}

func (jr *jsonReader) attrs(n *jnode) {
	r := &jr.row
	if v := n.get("Data_Type"); v != nil {
		r.DataType = v.text()
	}
	if v := n.get("Section_Type"); v != nil {
		r.SectionType = v.text()
	}
	if v := n.get("Access_Type"); v != nil {
		r.AccessType = v.text()
	}
	if v := n.get("Access_Method"); v != nil {
		r.AccessMethod = v.text()
	}
	if v := n.get("YOP"); v != nil {
		y, ok, err := parseYOP(v.text())
		if err != nil {
			jr.doc.warnf("item %q: %v", r.Title, err)
		}
		r.YOP, r.HasYOP = y, ok
	}
}

// setLayout records the item layout the first item shows and warns once
// when it is not the header's release's own.
func (jr *jsonReader) setLayout(release, name string) {
	if jr.layout != "" {
		return
	}
	jr.layout = release
	if jr.doc.Release != release {
		jr.doc.warnf("release %s report uses the R%s %s layout", jr.doc.Release, release, name)
	}
}

// item51 reads an R5.1 item: Attribute_Performance[{attributes,
// Performance: {metric: {"2022-01": n}}}].
func (jr *jsonReader) item51(it *jnode) error {
	jr.setLayout("5.1", "Attribute_Performance")
	if !jr.itemFields(it) {
		return nil
	}
	r := &jr.row
	var authors []string
	for _, a := range it.get("Authors").list() {
		authors = append(authors, a.str1("Name"))
	}
	r.Authors = strings.Join(authors, "; ")
	r.PublicationDate = it.str1("Publication_Date")
	r.ArticleVersion = it.str1("Article_Version")
	jr.attrs(it)
	item := *r
	for _, ap := range it.get("Attribute_Performance").list() {
		*r = item
		jr.attrs(ap)
		perf := ap.get("Performance")
		if perf == nil {
			continue // an Attribute_Performance without usage
		}
		if perf.kind != '{' {
			if err := jr.badCount("Performance", perf); err != nil {
				return err
			}
			continue
		}
		for i, metric := range perf.keys {
			r.MetricType = metric
			months := perf.vals[i]
			if months.kind != '{' {
				// A count not given by month has no month to go in.
				if err := jr.badCount(metric, months); err != nil {
					return err
				}
				continue
			}
			for j, ym := range months.keys {
				m, ok := dateMonth(ym)
				if !ok {
					jr.sink.skip(1, fmt.Sprintf("item %q metric %s: month %q is not yyyy-mm; skipped", r.Title, metric, ym))
					continue
				}
				jr.oneMonth = true
				if err := jr.add(m, months.vals[j]); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// item5 reads an R5 item: Performance[{Period, Instance[{Metric_Type, Count}]}].
func (jr *jsonReader) item5(it *jnode) error {
	jr.setLayout("5", "Performance")
	if !jr.itemFields(it) {
		return nil
	}
	r := &jr.row
	var authors []string
	for _, c := range it.get("Item_Contributors").list() {
		if strings.EqualFold(c.str1("Type"), "Author") {
			authors = append(authors, c.str1("Name"))
		}
	}
	r.Authors = strings.Join(authors, "; ")
	for _, d := range it.get("Item_Dates").list() {
		if strings.EqualFold(d.str1("Type"), "Publication_Date") {
			r.PublicationDate = d.str1("Value")
		}
	}
	for _, a := range it.get("Item_Attributes").list() {
		if strings.EqualFold(a.str1("Type"), "Article_Version") {
			r.ArticleVersion = a.str1("Value")
		}
	}
	if p := it.get("Item_Parent"); p != nil && p.kind == '{' {
		r.ParentTitle = p.str1("Item_Name")
		r.ParentDataType = p.str1("Data_Type")
		setIDs(&r.ParentDOI, &r.ParentISBN, &r.ParentPrintISSN, &r.ParentOnlineISSN, &r.ParentURI, &r.ParentPropID, p.get("Item_ID"))
	}
	jr.attrs(it)
	if err := jr.performance5(it.get("Performance")); err != nil {
		return err
	}
	// An R5 IR component's usage is a breakdown of its item's (the CoP's
	// Include_Component_Details shows which parts of an item were used),
	// not more use: vendors repeat the item's counts there. Loading it
	// beside the item, which the warehouse would sum, counts a use twice,
	// so it is set aside, even for an item that has no usage of its own.
	for _, c := range it.get("Item_Component").list() {
		var n int64
		for _, p := range c.get("Performance").list() {
			n += int64(len(p.get("Instance").list()))
		}
		if n > 0 {
			jr.sink.skip(n, "IR item components' usage is a breakdown of their item's and is not loaded")
		}
	}
	return nil
}

func (jr *jsonReader) performance5(perf *jnode) error {
	r := &jr.row
	for _, p := range perf.list() {
		begin, end := p.get("Period").str1("Begin_Date"), p.get("Period").str1("End_Date")
		m, ok := dateMonth(begin)
		instances := int64(len(p.get("Instance").list()))
		if !ok {
			jr.sink.skip(instances, fmt.Sprintf("item %q: performance period without a Begin_Date; skipped", r.Title))
			continue
		}
		if !calendarMonth(begin, end) {
			// Added into its first month it would count twice beside the
			// single months, or date a quarter's use in one month.
			if jr.notOneMonth == "" {
				jr.notOneMonth = begin + " to " + end
			}
			jr.sink.skip(instances, fmt.Sprintf("performance period %s to %s is not one calendar month; its counts are not added into a month", begin, end))
			continue
		}
		jr.oneMonth = true
		for _, in := range p.get("Instance").list() {
			r.MetricType = in.str1("Metric_Type")
			if err := jr.add(m, in.get("Count")); err != nil {
				return err
			}
		}
	}
	return nil
}

// add emits the current row with the count in n (a number or a string).
func (jr *jsonReader) add(m bibstat.Month, n *jnode) error {
	r := &jr.row
	if r.MetricType == "" {
		jr.sink.skip(1, fmt.Sprintf("item %q: count without Metric_Type; skipped", r.Title))
		return nil
	}
	if n == nil || (n.kind != 's' && n.kind != 'n') || n.text() == "" {
		// null, "", true, {…} or […] where a count belongs: never zero.
		return jr.badCount(m.String(), n)
	}
	if n.kind == 's' && !jr.warnedStringCount {
		jr.warnedStringCount = true
		jr.doc.warnf("counts are strings, not numbers")
	}
	c, err := parseCount([]byte(n.text()))
	if err != nil {
		return jr.cellError(m.String(), n.text(), err)
	}
	return jr.sink.add(r, m, m.First(), c)
}

// badCount is the CellError for a value that is not a count at all; at
// names where it was (a month, or a metric whose months are missing).
func (jr *jsonReader) badCount(at string, n *jnode) error {
	v := "(missing)"
	switch {
	case n == nil:
	case n.kind == '{':
		v = "{…}"
	case n.kind == '[':
		v = "[…]"
	case n.kind == '0':
		v = "null"
	default:
		v = n.str
	}
	return jr.cellError(at, v, ErrNotACount)
}

// cellError fails the document at a bad count, or, under AcceptPartial,
// sets the cell aside with its warning.
func (jr *jsonReader) cellError(at, value string, err error) error {
	ce := &CellError{Name: jr.opts.Name, Item: itemLabel(&jr.row), Column: at, Value: value, Err: err}
	if !jr.opts.AcceptPartial {
		return ce
	}
	jr.sink.skip(1, ce.Error()+"; not loaded")
	return nil
}

// itemLabel names the current row's item for an error: its title, else
// its database or platform, with the metric.
func itemLabel(r *schemas.Row) string {
	name := r.Title
	for _, s := range []string{r.Database, r.Platform} {
		if name == "" {
			name = s
		}
	}
	if r.MetricType != "" {
		name += " " + r.MetricType
	}
	return name
}

// calendarMonth says whether a Performance period's Begin_Date and
// End_Date are one calendar month: the 1st to the last day of the same
// month. A bare "yyyy-mm" is that month; a missing End_Date trusts
// Begin_Date, as the CoP's months always begin on the 1st.
func calendarMonth(begin, end string) bool {
	b, bok := dateDay(begin)
	if !bok || b.Day() != 1 {
		return false
	}
	if strings.TrimSpace(end) == "" {
		return true
	}
	e, eok := dateDay(end)
	if !eok {
		return false
	}
	last := b.AddDate(0, 1, -1)
	if len(strings.TrimSpace(end)) == 7 {
		e = last
	}
	return e.Equal(last)
}

// dateDay reads "yyyy-mm-dd" (a time after it ignored) or "yyyy-mm" as
// that month's first day.
func dateDay(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if len(s) == 7 {
		s += "-01"
	}
	if len(s) < 10 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, s[:10])
	return t, err == nil
}
