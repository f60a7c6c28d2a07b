package counter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/schemas"
)

// jnode is a decoded JSON value that keeps object keys in document order
// and lets lookups ignore case, because vendors send "code" for "Code".
type jnode struct {
	kind byte // '{' object, '[' array, 's' string, 'n' number, 'b' bool, '0' null
	str  string
	keys []string // object keys, parallel to vals
	vals []*jnode // object values or array elements
}

// get returns the member called name, matching case-insensitively when no
// exact match exists; nil if absent or n is not an object.
func (n *jnode) get(name string) *jnode {
	if n == nil || n.kind != '{' {
		return nil
	}
	for i, k := range n.keys {
		if k == name {
			return n.vals[i]
		}
	}
	for i, k := range n.keys {
		if strings.EqualFold(k, name) {
			return n.vals[i]
		}
	}
	return nil
}

// text is a scalar's text: strings as is, numbers as written, null as "".
func (n *jnode) text() string {
	if n == nil {
		return ""
	}
	switch n.kind {
	case 's', 'n', 'b':
		return strings.TrimSpace(n.str)
	}
	return ""
}

func (n *jnode) str1(name string) string { return n.get(name).text() }

func (n *jnode) list() []*jnode {
	if n == nil || n.kind != '[' {
		return nil
	}
	return n.vals
}

// jsonReader walks one JSON document with the streaming tokenizer so that a
// report is held one Report_Item at a time, never whole.
type jsonReader struct {
	ctx  context.Context
	dec  *json.Decoder
	opts Options
	emit func(arrow.RecordBatch) error
	doc  *Document

	sink              *sink
	base              schemas.Row // header fields stamped on every row
	row               schemas.Row
	header            bool     // the header has been read
	layout            string   // "5" or "5.1" item layout seen, for a header without Release
	pending           []*jnode // items that came before their header
	strings           int      // nesting of JSON-encoded strings
	warnedStringCount bool
}

func readJSON(ctx context.Context, r io.Reader, opts Options, emit func(arrow.RecordBatch) error, doc *Document) error {
	jr := &jsonReader{ctx: ctx, opts: opts, emit: emit, doc: doc}
	defer func() {
		if jr.sink != nil {
			jr.sink.release()
		}
	}()
	jr.dec = newDecoder(r)
	tok, err := jr.token()
	if err != nil {
		return err
	}
	if err := jr.document(tok, 0); err != nil {
		return err
	}
	if _, err := jr.dec.Token(); err != io.EOF {
		jr.doc.warnf("data after the JSON document ignored")
	}
	if jr.sink != nil {
		return jr.sink.flush()
	}
	return nil
}

func newDecoder(r io.Reader) *json.Decoder {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	return dec
}

func (jr *jsonReader) token() (json.Token, error) {
	tok, err := jr.dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("parse json at offset %d: %w", jr.dec.InputOffset(), err)
	}
	return tok, nil
}

// document reads the value starting with tok as a whole COUNTER response.
func (jr *jsonReader) document(tok json.Token, depth int) error {
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return jr.object(depth)
		}
		n, err := jr.value(tok, depth+1, "")
		if err != nil {
			return err
		}
		return jr.array(n)
	case string:
		// Some gateways JSON-encode the whole response a second time.
		if jr.strings >= 2 {
			return errors.New("parse json: response is a string nested too deeply")
		}
		jr.strings++
		jr.doc.warnf("response is a JSON-encoded string")
		outer := jr.dec
		jr.dec = newDecoder(strings.NewReader(t))
		defer func() { jr.dec = outer }()
		inner, err := jr.token()
		if err != nil {
			return err
		}
		return jr.document(inner, depth+1)
	case nil:
		return errors.New("not a COUNTER document: the response is null")
	}
	return fmt.Errorf("not a COUNTER document: the response is a JSON %T", tok)
}

// object streams the members of the response object: Report_Items one item
// at a time, everything else decoded whole (it is small).
func (jr *jsonReader) object(depth int) error {
	root := &jnode{kind: '{'}
	body := false
	for jr.dec.More() {
		ktok, err := jr.token()
		if err != nil {
			return err
		}
		key, _ := ktok.(string)
		if root.get(key) != nil && root.has(key) {
			jr.doc.warnf("duplicate JSON key %q at the top level", key)
		}
		tok, err := jr.token()
		if err != nil {
			return err
		}
		switch {
		case strings.EqualFold(key, "Report_Items") && tok == json.Delim('['):
			if err := jr.items(root, depth+1); err != nil {
				return err
			}
			root.set(key, &jnode{kind: '['})
			continue
		case strings.EqualFold(key, "body") && tok != nil && !jr.header && depth < 4:
			// An envelope {"body": report, "response": {...}}.
			body = true
			if err := jr.document(tok, depth+1); err != nil {
				return fmt.Errorf("body: %w", err)
			}
			continue
		}
		v, err := jr.value(tok, depth+1, key)
		if err != nil {
			return err
		}
		root.set(key, v)
		if strings.EqualFold(key, "Report_Header") && v.kind == '{' && !jr.header {
			if err := jr.setHeader(v, root); err != nil {
				return err
			}
		}
	}
	if _, err := jr.token(); err != nil { // the closing brace
		return err
	}
	if !jr.header && looksLikeHeader(root) {
		if root.get("Report_Header") == nil {
			jr.doc.warnf("report header fields at the top level, without Report_Header")
		}
		if err := jr.setHeader(root, root); err != nil {
			return err
		}
	}
	if jr.header {
		for _, it := range jr.pending {
			if err := jr.item(it); err != nil {
				return err
			}
		}
		jr.pending = nil
		if root.get("Report_Header") != nil {
			jr.exceptions(root.get("Exceptions"))
			jr.exceptions(root.get("Exception"))
		}
		return nil
	}
	if body && jr.doc.Kind != "" {
		return nil // the envelope's body was the document
	}
	if len(jr.pending) > 0 {
		return errors.New("not a COUNTER document: Report_Items without a Report_Header")
	}
	before := len(jr.doc.Exceptions)
	switch {
	case isException(root):
		jr.exceptions(root)
	case root.get("Exceptions") != nil || root.get("Exception") != nil:
		jr.exceptions(root.get("Exceptions"))
		jr.exceptions(root.get("Exception"))
	case isException(root.get("response")):
		jr.exceptions(root.get("response"))
	}
	if len(jr.doc.Exceptions) > before {
		jr.doc.Kind = KindExceptions
		return nil
	}
	return errors.New("not a COUNTER document: no Report_Header, exception or report list")
}

// array reads a top-level array: a list of exceptions or a /reports list.
func (jr *jsonReader) array(n *jnode) error {
	if len(n.vals) == 0 {
		return errors.New("not a COUNTER document: an empty array")
	}
	switch {
	case isException(n.vals[0]):
		jr.exceptions(n)
		jr.doc.Kind = KindExceptions
		return nil
	case n.vals[0].get("Report_ID") != nil && n.vals[0].get("Report_Name") != nil:
		jr.doc.Kind = KindReportList
		rel := n.vals[0].str1("Release")
		if rel == "" {
			jr.doc.warnf("report list without Release")
			return nil
		}
		r, err := supportedRelease(rel)
		if err != nil {
			return err
		}
		jr.doc.Release = r
		return nil
	}
	return errors.New("not a COUNTER document: an array of neither exceptions nor reports")
}

func (n *jnode) has(key string) bool {
	for _, k := range n.keys {
		if k == key {
			return true
		}
	}
	return false
}

// set adds or, for a duplicate key, replaces a member (the last one wins,
// as with encoding/json).
func (n *jnode) set(key string, v *jnode) {
	for i, k := range n.keys {
		if k == key {
			n.vals[i] = v
			return
		}
	}
	n.keys = append(n.keys, key)
	n.vals = append(n.vals, v)
}

func looksLikeHeader(n *jnode) bool {
	return n.get("Report_Header") != nil || (n.get("Release") != nil && n.get("Report_ID") != nil)
}

func isException(n *jnode) bool {
	if n == nil || n.kind != '{' {
		return false
	}
	return (n.get("Code") != nil || n.get("Number") != nil) && (n.get("Message") != nil || n.get("Severity") != nil)
}

// exceptions appends the exceptions in n: one object or an array of them.
func (jr *jsonReader) exceptions(n *jnode) {
	if n == nil {
		return
	}
	if n.kind == '[' {
		for _, e := range n.vals {
			jr.exceptions(e)
		}
		return
	}
	if n.kind != '{' {
		return
	}
	codeText := n.str1("Code")
	if codeText == "" {
		codeText = n.str1("Number")
	}
	code, err := strconv.Atoi(codeText)
	if err != nil {
		jr.doc.warnf("exception code %q is not a number", codeText)
	}
	if n.get("Code") != nil && n.get("Code").kind == 's' {
		jr.doc.warnf("exception code %q is a string", codeText)
	}
	jr.doc.Exceptions = append(jr.doc.Exceptions, Exception{Code: code, Severity: n.str1("Severity"),
		Message: n.str1("Message"), Data: n.str1("Data"), HelpURL: n.str1("Help_URL")})
}

// value decodes the value starting with tok, warning about duplicate keys
// and failing past the nesting limit.
func (jr *jsonReader) value(tok json.Token, depth int, path string) (*jnode, error) {
	if depth > jr.opts.MaxDepth {
		return nil, fmt.Errorf("parse json at offset %d: nesting deeper than %d", jr.dec.InputOffset(), jr.opts.MaxDepth)
	}
	switch t := tok.(type) {
	case json.Delim:
		n := &jnode{kind: byte(t)}
		var seen map[string]bool
		for jr.dec.More() {
			var key string
			if t == '{' {
				ktok, err := jr.token()
				if err != nil {
					return nil, err
				}
				key, _ = ktok.(string)
			}
			vtok, err := jr.token()
			if err != nil {
				return nil, err
			}
			v, err := jr.value(vtok, depth+1, path+"/"+key)
			if err != nil {
				return nil, err
			}
			if t == '[' {
				n.vals = append(n.vals, v)
				continue
			}
			dup := false
			if len(n.keys) < 16 {
				dup = n.has(key)
			} else {
				if seen == nil {
					seen = make(map[string]bool, 32)
					for _, k := range n.keys {
						seen[k] = true
					}
				}
				dup = seen[key]
				seen[key] = true
			}
			if dup {
				jr.doc.warnf("duplicate JSON key %q in %s; the last value is used", key, path)
				n.set(key, v)
				continue
			}
			n.keys = append(n.keys, key)
			n.vals = append(n.vals, v)
		}
		if _, err := jr.token(); err != nil {
			return nil, err
		}
		return n, nil
	case string:
		return &jnode{kind: 's', str: t}, nil
	case json.Number:
		return &jnode{kind: 'n', str: string(t)}, nil
	case bool:
		return &jnode{kind: 'b', str: strconv.FormatBool(t)}, nil
	case nil:
		return &jnode{kind: '0'}, nil
	}
	return nil, fmt.Errorf("parse json at offset %d: unexpected %v", jr.dec.InputOffset(), tok)
}

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
