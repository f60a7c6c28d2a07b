package counter

// Report_Items in the R5 layout (Performance per period) and the R5.1
// layout (Attribute_Performance, items grouped under a parent).

import (
	"strings"

	"github.com/bibliotek24/bibstat"
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
		jr.doc.warnf("report item is not an object; skipped")
		return nil
	}
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
	if it.get("Performance") != nil {
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
		if perf == nil || perf.kind != '{' {
			continue
		}
		for i, metric := range perf.keys {
			r.MetricType = metric
			months := perf.vals[i]
			if months.kind != '{' {
				jr.doc.warnf("item %q metric %s: counts are not an object", r.Title, metric)
				continue
			}
			for j, ym := range months.keys {
				m, ok := dateMonth(ym)
				if !ok {
					jr.doc.warnf("item %q metric %s: month %q is not yyyy-mm; skipped", r.Title, metric, ym)
					continue
				}
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
	// R5 IR components carry their own usage.
	item := *r
	for _, c := range it.get("Item_Component").list() {
		*r = item
		r.ComponentTitle = c.str1("Item_Name")
		r.ComponentDataType = c.str1("Data_Type")
		if err := jr.performance5(c.get("Performance")); err != nil {
			return err
		}
	}
	return nil
}

func (jr *jsonReader) performance5(perf *jnode) error {
	r := &jr.row
	for _, p := range perf.list() {
		m, ok := dateMonth(p.get("Period").str1("Begin_Date"))
		if !ok {
			jr.doc.warnf("item %q: performance period without a Begin_Date; skipped", r.Title)
			continue
		}
		if e, ok := dateMonth(p.get("Period").str1("End_Date")); ok && e != m {
			jr.doc.warnf("item %q: performance period %s to %s spans months; counted in %s", r.Title, m, e, m)
		}
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
	if n == nil {
		return nil
	}
	if n.kind == 's' && jr.warnedStringCount == false {
		jr.warnedStringCount = true
		jr.doc.warnf("counts are strings, not numbers")
	}
	c, err := parseCount([]byte(n.text()))
	if err != nil {
		jr.doc.warnf("item %q metric %s month %s: %v; counted as 0", r.Title, r.MetricType, m, err)
		return nil
	}
	if r.MetricType == "" {
		jr.doc.warnf("item %q: count without Metric_Type; skipped", r.Title)
		return nil
	}
	return jr.sink.add(r, m, m.First(), c)
}
