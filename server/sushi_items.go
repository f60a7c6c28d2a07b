package server

import (
	"database/sql"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// itemCols are the identifying columns of each master's Report_Items.
var itemCols = map[string][]string{
	"PR": {"platform"},
	"DR": {"database", "publisher", "platform", "proprietary_id"},
	"TR": {"title", "publisher", "platform", "doi", "isbn", "print_issn", "online_issn", "uri", "proprietary_id"},
	"IR": {"title", "publisher", "platform", "doi", "isbn", "print_issn", "online_issn", "uri", "proprietary_id"},
}

// parentCols identify an IR item's parent; they follow the item's own
// columns when the items are grouped by parent.
var parentCols = []string{"parent_title", "parent_data_type", "parent_doi", "parent_isbn", "parent_print_issn",
	"parent_online_issn", "parent_uri", "parent_proprietary_id"}

// parentDataTypes are the Data_Types a parent may have (API 5.1 Item_Parent_Item).
var parentDataTypes = []string{"Book", "Conference", "Database_Full", "Journal", "Newspaper_or_Newsletter", "Reference_Work"}

// itemCols are the columns that identify the request's Report_Items.
func (req request) itemCols() []string {
	cols := itemCols[req.spec.Master]
	if req.parents {
		return slices.Concat(cols, parentCols)
	}
	return cols
}

// itemUsage is one Report_Item's rows: its identifying columns and one
// performance per combination of the attributes shown.
type itemUsage struct {
	cols  []string
	perfs []*perfUsage
	byKey map[string]*perfUsage
}

// perfUsage is one Attribute_Performance: counts by metric and month.
type perfUsage struct {
	attrs []string
	m     map[string]map[string]int64
}

// scanItems groups the query's rows, ordered by item, by item and by
// attributes. A monthKey other than "" replaces every month: the counts
// of the period are summed under it (Granularity=Totals).
func scanItems(rows *sql.Rows, nItem, nShow int, monthKey string) ([]*itemUsage, error) {
	var items []*itemUsage
	byKey := map[string]*itemUsage{}
	n := nItem + nShow
	for rows.Next() {
		vals := make([]string, n)
		var metric, month string
		var count int64
		dest := make([]any, 0, n+3)
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		dest = append(dest, &metric, &month, &count)
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		if monthKey != "" {
			month = monthKey
		}
		ik := strings.Join(vals[:nItem], "\x00")
		it := byKey[ik]
		if it == nil {
			it = &itemUsage{cols: vals[:nItem], byKey: map[string]*perfUsage{}}
			byKey[ik] = it
			items = append(items, it)
		}
		ak := strings.Join(vals[nItem:], "\x00")
		p := it.byKey[ak]
		if p == nil {
			p = &perfUsage{attrs: vals[nItem:], m: map[string]map[string]int64{}}
			it.byKey[ak] = p
			it.perfs = append(it.perfs, p)
		}
		if p.m[metric] == nil {
			p.m[metric] = map[string]int64{}
		}
		p.m[metric][month] += count
	}
	return items, rows.Err()
}

// shapeItems writes the items as R5.1 Report_Items. Item Report items sit
// under their parent when parents are shown (IR_A1 always shows them),
// else, and when a parent has no identifier COUNTER accepts, under one
// parentless group.
func shapeItems(req request, icols []string, items []*itemUsage) []any {
	master := req.spec.Master
	out := []any{}
	nOwn := len(itemCols[master])
	var groups []map[string]any
	byParent := map[string]map[string]any{}
	for _, it := range items {
		obj := itemObject(master, icols[:nOwn], it.cols[:nOwn])
		var aps []any
		for _, p := range it.perfs {
			ap := map[string]any{"Performance": p.m}
			for i, a := range req.show {
				ap[a] = p.attrs[i]
			}
			aps = append(aps, ap)
		}
		obj["Attribute_Performance"] = aps
		if master != "IR" {
			out = append(out, obj)
			continue
		}
		var parent map[string]any
		if req.parents {
			parent = parentObject(it.cols[nOwn:], !req.spec.view())
		}
		pk := strings.Join(it.cols[nOwn:], "\x00")
		if parent == nil {
			pk = "\x01" // one group for every item without a parent
		}
		g := byParent[pk]
		if g == nil {
			g = map[string]any{}
			for k, v := range parent {
				g[k] = v
			}
			byParent[pk] = g
			groups = append(groups, g)
		}
		g["Items"] = append(asSlice(g["Items"]), obj)
	}
	for _, g := range groups {
		out = append(out, g)
	}
	return out
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// parentObject is an IR item's parent from its parent columns (in
// parentCols' order), or nil when no identifier of it has the form
// COUNTER requires: a parent must have an Item_ID. IR_A1's parents carry
// no Data_Type (all are journals), IR's do.
func parentObject(vals []string, dataType bool) map[string]any {
	ids := map[string]string{}
	for i, c := range parentCols[2:] {
		col := strings.TrimPrefix(c, "parent_")
		if validID(col, vals[2+i]) {
			ids[idNames[col]] = vals[2+i]
		}
	}
	if len(ids) == 0 {
		return nil
	}
	p := map[string]any{"Item_ID": ids}
	if vals[0] != "" {
		p["Title"] = vals[0]
	}
	if dataType && slices.Contains(parentDataTypes, vals[1]) {
		p["Data_Type"] = vals[1]
	}
	return p
}

var (
	doiRE   = regexp.MustCompile(`^10\.[1-9][0-9]{3}[0-9.]*/.+$`)
	isbnRE  = regexp.MustCompile(`^97[89]-[0-9]+-[0-9]+-[0-9]+-[0-9]$`)
	issnRE  = regexp.MustCompile(`^[0-9]{4}-[0-9]{3}[0-9X]$`)
	propRE  = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_./]{1,17}:.+`)
	idNames = map[string]string{"doi": "DOI", "isbn": "ISBN", "print_issn": "Print_ISSN", "online_issn": "Online_ISSN", "uri": "URI", "proprietary_id": "Proprietary"}
)

// itemObject names a Report_Item's columns as COUNTER does. Identifiers
// that do not have the form COUNTER requires are left out rather than
// sent malformed.
func itemObject(master string, cols, vals []string) map[string]any {
	obj := map[string]any{}
	ids := map[string]string{}
	for i, c := range cols {
		v := vals[i]
		switch c {
		case "platform":
			obj["Platform"] = v
		case "publisher":
			obj["Publisher"] = v
		case "database":
			obj["Database"] = v
		case "title":
			if master == "IR" {
				obj["Item"] = v
			} else {
				obj["Title"] = v
			}
		default:
			if validID(c, v) {
				ids[idNames[c]] = v
			}
		}
	}
	if len(ids) > 0 {
		obj["Item_ID"] = ids
	}
	return obj
}

func validID(col, v string) bool {
	switch col {
	case "doi":
		return doiRE.MatchString(v)
	case "isbn":
		return len(v) == 17 && isbnRE.MatchString(v)
	case "print_issn", "online_issn":
		return issnRE.MatchString(v)
	case "proprietary_id":
		return propRE.MatchString(v)
	case "uri":
		u, err := url.Parse(v)
		return err == nil && u.Scheme != "" && v != ""
	}
	return false
}
