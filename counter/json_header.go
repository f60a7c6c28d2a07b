package counter

// Report_Header and the identifier lists of both releases.

import (
	"errors"
	"sort"
	"strings"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/schemas"
)

// setHeader reads a Report_Header (or header fields at the root).
func (jr *jsonReader) setHeader(h, root *jnode) error {
	jr.header = true
	d := jr.doc
	d.Kind = KindReport
	rel := h.str1("Release")
	if rel == "" {
		// An R5.1 header has object-shaped Institution_ID / Report_Filters.
		rel = "5"
		if f := h.get("Report_Filters"); f != nil && f.kind == '{' {
			rel = "5.1"
		}
		d.warnf("header without Release; assuming %s", rel)
	}
	r, err := supportedRelease(rel)
	if err != nil {
		return err
	}
	if r == "4" {
		return errors.New("release 4 is not delivered as JSON")
	}
	d.Release = r
	d.ReportID = strings.ToUpper(h.str1("Report_ID"))
	d.Header = Header{ReportName: h.str1("Report_Name"), InstitutionName: h.str1("Institution_Name"),
		InstitutionID: idList(h.get("Institution_ID")), CustomerID: h.str1("Customer_ID"),
		Created: h.str1("Created"), CreatedBy: h.str1("Created_By")}
	var begin, end string
	if f := h.get("Report_Filters"); f != nil && f.kind == '{' {
		begin, end = f.str1("Begin_Date"), f.str1("End_Date")
	} else {
		for _, nv := range f.list() {
			switch nv.str1("Name") {
			case "Begin_Date":
				begin = nv.str1("Value")
			case "End_Date":
				end = nv.str1("Value")
			}
		}
	}
	d.Header.Begin, _ = dateMonth(begin)
	d.Header.End, _ = dateMonth(end)
	if !d.Header.Begin.IsZero() && !d.Header.End.IsZero() && d.Header.End.Before(d.Header.Begin) {
		d.warnf("reporting period ends (%s) before it begins (%s); not checked", end, begin)
		d.Header.Begin, d.Header.End = bibstat.Month{}, bibstat.Month{}
	}
	jr.exceptions(h.get("Exceptions"))
	jr.exceptions(h.get("Exception"))
	jr.sink = newSink(jr.ctx, d, jr.opts, jr.emit)
	jr.base = schemas.Row{Release: d.Release, ReportID: d.ReportID, CustomerID: d.Header.CustomerID,
		InstitutionName: d.Header.InstitutionName, InstitutionID: d.Header.InstitutionID, SourceKey: jr.opts.SourceKey}
	return nil
}

// idList writes an identifier set in the tabular form "ns:value; ns:value":
// R5.1 objects {"ISNI": ["…"], "Proprietary": ["ns:v"]} or {"DOI": "…"}, and
// R5 arrays [{"Type": "ISNI", "Value": "…"}]. Proprietary values already carry
// their namespace.
func idList(n *jnode) string {
	var parts []string
	add := func(ns, v string) {
		if v == "" {
			return
		}
		if strings.EqualFold(ns, "Proprietary") {
			parts = append(parts, v)
		} else {
			parts = append(parts, ns+":"+v)
		}
	}
	switch {
	case n == nil:
	case n.kind == '{':
		for i, ns := range n.keys {
			if v := n.vals[i]; v.kind == '[' {
				for _, e := range v.vals {
					add(ns, e.text())
				}
			} else {
				add(ns, v.text())
			}
		}
		sort.Strings(parts)
	case n.kind == '[':
		for _, e := range n.vals {
			add(e.str1("Type"), e.str1("Value"))
		}
	default:
		return n.text()
	}
	return strings.Join(parts, "; ")
}

// setIDs fills the item identifier columns from an Item_ID.
func setIDs(doi, isbn, pissn, oissn, uri, prop *string, n *jnode) {
	get := func(name string) string {
		if n.kind == '{' {
			v := n.get(name)
			if v != nil && v.kind == '[' && len(v.vals) > 0 {
				return v.vals[0].text()
			}
			return v.text()
		}
		for _, e := range n.list() {
			if strings.EqualFold(e.str1("Type"), name) {
				return e.str1("Value")
			}
		}
		return ""
	}
	if n == nil {
		return
	}
	*doi, *isbn, *pissn, *oissn, *uri, *prop = get("DOI"), get("ISBN"), get("Print_ISSN"), get("Online_ISSN"), get("URI"), get("Proprietary")
}

// checkShape decides, at the first item, a Report_ID that disagrees with
// the Report_Name: by the name, unless the items' shape sides with the
// ID. Read as the wrong report, a view's usage would be loaded beside its
// master's and counted twice.
func (jr *jsonReader) checkShape(it *jnode) {
	if jr.shaped {
		return
	}
	jr.shaped = true
	d := jr.doc
	id, byName, shape := d.ReportID, reportByName(d.Header.ReportName), itemShape(it)
	switch {
	case byName == "" || byName == id:
		if id != "" && shape != "" && master(id) != shape {
			d.warnf("Report_ID %s, but the items are shaped as %s items; read as %s", id, shape, id)
		}
		return
	case id != "" && shape != "" && master(id) == shape && master(byName) != shape:
		d.warnf("Report_Name %q names %s, but Report_ID is %s and the items are %s items; read as %s",
			d.Header.ReportName, byName, id, shape, id)
		return
	}
	d.warnf("Report_ID %q disagrees with Report_Name %q; read as %s", id, d.Header.ReportName, byName)
	d.ReportID, jr.base.ReportID = byName, byName
}

// itemShape is the master report a Report_Item's fields belong to, "" if
// they say nothing.
func itemShape(it *jnode) string {
	switch {
	case it.get("Items") != nil || it.get("Item") != nil:
		return "IR"
	case it.get("Title") != nil:
		return "TR"
	case it.get("Database") != nil:
		return "DR"
	case it.get("Platform") != nil:
		return "PR"
	}
	return ""
}
