package server

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/counter"
)

// itemCols are the identifying columns of each master's Report_Items.
var itemCols = map[string][]string{
	"PR": {"platform"},
	"DR": {"database", "publisher", "platform", "proprietary_id"},
	"TR": {"title", "publisher", "platform", "doi", "isbn", "print_issn", "online_issn", "uri", "proprietary_id"},
	"IR": {"title", "publisher", "platform", "doi", "isbn", "print_issn", "online_issn", "uri", "proprietary_id"},
}

// Attribute expressions normalise what vendors leave empty or name the R5
// way: an empty Data_Type is Unspecified, Access_Method Regular,
// Access_Type Controlled (licensed content); R5's OA_Gold is R5.1's Open.
// Searches_Platform is always of Data_Type Platform (CoP 5.1 PR).
var attrExpr = map[string]string{
	"Data_Type":     `CASE WHEN metric_type = 'Searches_Platform' THEN 'Platform' ELSE coalesce(nullif(data_type, ''), 'Unspecified') END`,
	"YOP":           `coalesce(lpad(CAST(yop AS VARCHAR), 4, '0'), '0001')`,
	"Access_Type":   `CASE access_type WHEN '' THEN 'Controlled' WHEN 'OA_Gold' THEN 'Open' WHEN 'Other_Free_To_Read' THEN 'Free_To_Read' ELSE access_type END`,
	"Access_Method": `coalesce(nullif(access_method, ''), 'Regular')`,
}

// buildReport runs the report's query and shapes the R5.1 JSON.
func (s *Server) buildReport(ctx context.Context, li LibraryInfo, req request) (map[string]any, error) {
	sp := req.spec
	mr, err := s.available(ctx, li.ID, req.platform)
	if err != nil {
		return nil, err
	}
	excs := req.exceptions
	end, notReady, noData := readyMonths(req, mr.lastLoaded)
	if notReady != nil {
		excs = append(excs, *notReady)
	}
	header := map[string]any{
		"Report_Name": sp.Name, "Report_ID": sp.ID, "Release": "5.1",
		"Institution_Name": institutionName(li), "Institution_ID": map[string][]string{"ISIL": {li.ID.ISIL()}},
		"Report_Filters": reportFilters(req, end, noData), "Created": s.cfg.Now().UTC().Format(time.RFC3339),
		"Created_By": "BibStat (Bibliotek24)", "Registry_Record": "",
	}
	if !sp.view() && len(req.show) > 1 {
		header["Report_Attributes"] = map[string]any{"Attributes_To_Show": req.show[1:]} // Data_Type is not an attribute to show
	}
	items := []any{}
	if !noData {
		items, err = s.reportItems(ctx, li, req, req.begin, end)
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			excs = append(excs, counter.NewException(3030, ""))
		}
	}
	if len(excs) > 0 {
		header["Exceptions"] = uniqueSorted(excs)
	}
	return map[string]any{"Report_Header": header, "Report_Items": items}, nil
}

// readyMonths cuts the requested months at the last one loaded: the months
// after it are not ready (3031), not empty. It returns the last month to
// report, the 3031 if any months were cut, and whether none is left.
func readyMonths(req request, lastLoaded bibstat.Month) (end bibstat.Month, notReady *counter.Exception, noData bool) {
	begin, end := req.begin, req.end
	if !lastLoaded.IsZero() && !lastLoaded.Before(end) {
		return end, nil, false
	}
	from := begin
	if !lastLoaded.IsZero() && !lastLoaded.Before(begin) {
		from = lastLoaded.Add(1)
		end = lastLoaded
	} else {
		noData = true
	}
	missing := from.String()
	if from != req.end {
		missing += " to " + req.end.String()
	}
	e := counter.NewException(3031, "usage not yet harvested for "+missing)
	return end, &e, noData
}

// reportFilters is the header's Report_Filters: the request's, with the
// End_Date cut to the last month reported (unless there is none).
func reportFilters(req request, end bibstat.Month, noData bool) map[string]any {
	filters := map[string]any{"Begin_Date": req.begin.First().Format(time.DateOnly), "End_Date": end.Last().Format(time.DateOnly)}
	if noData {
		filters["End_Date"] = req.end.Last().Format(time.DateOnly)
	}
	set := func(name, v string) {
		if v != "" {
			filters[name] = v
		}
	}
	setList := func(name string, v []string) {
		if len(v) > 0 {
			filters[name] = v
		}
	}
	set("Platform", req.platform)
	setList("Metric_Type", req.metrics)
	setList("Data_Type", req.dataTypes)
	setList("Access_Type", req.accessTypes)
	setList("Access_Method", req.accessMeth)
	set("Database", req.database)
	set("Item_ID", req.itemID)
	set("Author", req.author)
	var ys []string
	for _, y := range req.yops {
		if y[0] == y[1] {
			ys = append(ys, fmt.Sprintf("%04d", y[0]))
		} else {
			ys = append(ys, fmt.Sprintf("%04d-%04d", y[0], y[1]))
		}
	}
	setList("YOP", ys)
	return filters
}

func institutionName(li LibraryInfo) string {
	if len(li.Name) >= 2 {
		return li.Name
	}
	return "Bibliotek " + string(li.ID)
}

func uniqueSorted(excs []counter.Exception) []counter.Exception {
	out := []counter.Exception{}
	seen := map[counter.Exception]bool{}
	for _, e := range excs {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	for i := 1; i < len(out); i++ { // few elements: insertion sort by code
		for j := i; j > 0 && out[j].Code < out[j-1].Code; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// reportItems queries the library's facts of the report's family and
// shapes them as Report_Items.
func (s *Server) reportItems(ctx context.Context, li LibraryInfo, req request, begin, end bibstat.Month) ([]any, error) {
	sp := req.spec
	icols := itemCols[sp.Master]
	q, args := itemsQuery(li, req, begin, end)
	rows, err := s.cfg.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", sp.ID, err)
	}
	defer rows.Close()
	items, err := scanItems(rows, len(icols), len(req.show))
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", sp.ID, err)
	}
	return shapeItems(sp.Master, icols, req.show, items), nil
}

// itemsQuery is the SQL of a report and its arguments: the library's facts
// of releases 5 and 5.1 only, the best release per platform and month, and
// per platform and month one report (the master itself if harvested, else
// the first of its views), summed over every column not shown.
func itemsQuery(li LibraryInfo, req request, begin, end bibstat.Month) (string, []any) {
	sp := req.spec
	sel := slices.Clone(itemCols[sp.Master])
	for _, a := range req.show {
		sel = append(sel, attrExpr[a])
	}
	args := []any{sp.Master, string(li.ID), sp.Master, begin.First(), end.First()}
	platformCond := ""
	if req.platform != "" {
		platformCond = " AND f.platform = ?"
		args = append(args, req.platform)
	}
	where, whereArgs := itemsWhere(req)
	q := `
WITH f AS (
  SELECT f.*, release_rank(f.release) AS rr,
         CASE WHEN upper(f.report_id) = ? THEN '0' ELSE '1' END || upper(f.report_id) AS rk
  FROM facts f JOIN attribution a USING (platform, library_id, institution_id, customer_id)
  WHERE a.target_kind = 'library' AND a.target_id = ? AND split_part(upper(f.report_id), '_', 1) = ?
    AND f.release LIKE '5%' AND f.month BETWEEN ? AND ?` + platformCond + `
),
best_release AS (SELECT platform, month, max(rr) AS rr FROM f GROUP BY ALL),
best_report AS (SELECT platform, month, rr, min(rk) AS rk FROM f JOIN best_release USING (platform, month, rr) GROUP BY ALL)
SELECT ` + strings.Join(sel, ", ") + `, metric_type, strftime(month, '%Y-%m'), sum(count)::BIGINT
FROM f JOIN best_report USING (platform, month, rr, rk)
WHERE ` + where + `
GROUP BY ALL HAVING sum(count) <> 0
ORDER BY ALL`
	return q, append(args, whereArgs...)
}

// itemsWhere is the condition the request's filters put on the facts.
func itemsWhere(req request) (string, []any) {
	where := []string{"true"}
	var args []any
	in := func(expr string, vals []string) {
		if len(vals) == 0 {
			return
		}
		ph := strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")
		where = append(where, expr+" IN ("+ph+")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	metrics := req.metrics
	if len(metrics) == 0 {
		metrics = req.spec.Metrics
	}
	in("metric_type", metrics)
	in(attrExpr["Data_Type"], req.dataTypes)
	in(attrExpr["Access_Type"], req.accessTypes)
	in(attrExpr["Access_Method"], req.accessMeth)
	if len(req.yops) > 0 {
		var ors []string
		for _, y := range req.yops {
			ors = append(ors, "(yop BETWEEN ? AND ?)")
			args = append(args, y[0], y[1])
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	if req.database != "" {
		where = append(where, "database = ?")
		args = append(args, req.database)
	}
	if req.itemID != "" {
		where = append(where, "? IN (doi, isbn, print_issn, online_issn, uri, proprietary_id)")
		args = append(args, bareItemID(req.itemID))
	}
	if req.author != "" {
		where = append(where, "authors ILIKE ?")
		args = append(args, "%"+req.author+"%")
	}
	return strings.Join(where, " AND "), args
}

// bareItemID drops an item_id's identifier type ("doi:10.1/x" is
// "10.1/x"), which the facts do not store; a URI keeps its scheme.
func bareItemID(id string) string {
	if _, v, ok := strings.Cut(id, ":"); ok && !strings.Contains(strings.ToLower(id), "http") {
		if t := strings.ToLower(id[:strings.Index(id, ":")]); t == "doi" || t == "isbn" || t == "print_issn" || t == "online_issn" || t == "uri" || t == "proprietary" {
			return v
		}
	}
	return id
}

// itemUsage is one Report_Item's rows: its identifying columns and one
// performance per combination of the attributes shown.
type itemUsage struct {
	cols  []string
	perfs []*perfUsage
	byKey map[string]*perfUsage
}

// perfUsage is one Attribute_Performance: counts by metric and month, the
// metrics in the order the rows brought them.
type perfUsage struct {
	attrs []string
	m     map[string]map[string]int64
	order []string
}

// scanItems groups the query's rows, ordered by item, by item and by
// attributes.
func scanItems(rows *sql.Rows, nItem, nShow int) ([]*itemUsage, error) {
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
			p.order = append(p.order, metric)
		}
		p.m[metric][month] += count
	}
	return items, rows.Err()
}

// shapeItems writes the items as R5.1 Report_Items.
func shapeItems(master string, icols, show []string, items []*itemUsage) []any {
	out := []any{}
	var irItems []any
	for _, it := range items {
		obj := itemObject(master, icols, it.cols)
		var aps []any
		for _, p := range it.perfs {
			ap := map[string]any{"Performance": p.m}
			for i, a := range show {
				ap[a] = p.attrs[i]
			}
			aps = append(aps, ap)
		}
		obj["Attribute_Performance"] = aps
		if master == "IR" {
			irItems = append(irItems, obj)
		} else {
			out = append(out, obj)
		}
	}
	if len(irItems) > 0 {
		// Without parent details every item sits under one parentless group.
		out = append(out, map[string]any{"Items": irItems})
	}
	return out
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
