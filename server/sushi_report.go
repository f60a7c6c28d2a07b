package server

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
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
	begin, end := req.begin, req.end
	noData := false
	// Months after the last loaded one are not ready (3031), not empty.
	if mr.lastLoaded.IsZero() || mr.lastLoaded.Before(end) {
		from := begin
		if !mr.lastLoaded.IsZero() && !mr.lastLoaded.Before(begin) {
			from = mr.lastLoaded.Add(1)
			end = mr.lastLoaded
		} else {
			noData = true
		}
		missing := from.String()
		if from != req.end {
			missing += " to " + req.end.String()
		}
		excs = append(excs, newException(3031, "usage not yet harvested for "+missing))
	}

	filters := map[string]any{"Begin_Date": begin.First().Format(time.DateOnly), "End_Date": end.Last().Format(time.DateOnly)}
	if noData {
		filters["End_Date"] = req.end.Last().Format(time.DateOnly)
	}
	if req.platform != "" {
		filters["Platform"] = req.platform
	}
	setList := func(name string, v []string) {
		if len(v) > 0 {
			filters[name] = v
		}
	}
	setList("Metric_Type", req.metrics)
	setList("Data_Type", req.dataTypes)
	setList("Access_Type", req.accessTypes)
	setList("Access_Method", req.accessMeth)
	if req.database != "" {
		filters["Database"] = req.database
	}
	if req.itemID != "" {
		filters["Item_ID"] = req.itemID
	}
	if req.author != "" {
		filters["Author"] = req.author
	}
	if len(req.yops) > 0 {
		var ys []string
		for _, y := range req.yops {
			if y[0] == y[1] {
				ys = append(ys, fmt.Sprintf("%04d", y[0]))
			} else {
				ys = append(ys, fmt.Sprintf("%04d-%04d", y[0], y[1]))
			}
		}
		filters["YOP"] = ys
	}
	header := map[string]any{
		"Report_Name": sp.Name, "Report_ID": sp.ID, "Release": "5.1",
		"Institution_Name": institutionName(li), "Institution_ID": map[string][]string{"ISIL": {li.ID.ISIL()}},
		"Report_Filters": filters, "Created": s.cfg.Now().UTC().Format(time.RFC3339), "Created_By": "BibStat (Bibliotek24)",
		"Registry_Record": "",
	}
	if !sp.view() && len(req.show) > 1 {
		header["Report_Attributes"] = map[string]any{"Attributes_To_Show": req.show[1:]} // Data_Type is not an attribute to show
	}
	items := []any{}
	if !noData {
		items, err = s.reportItems(ctx, li, req, begin, end)
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			excs = append(excs, newException(3030, ""))
		}
	}
	if len(excs) > 0 {
		header["Exceptions"] = uniqueSorted(excs)
	}
	return map[string]any{"Report_Header": header, "Report_Items": items}, nil
}

func institutionName(li LibraryInfo) string {
	if len(li.Name) >= 2 {
		return li.Name
	}
	return "Bibliotek " + string(li.ID)
}

func uniqueSorted(excs []exception) []exception {
	out := []exception{}
	seen := map[exception]bool{}
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

// reportItems queries the library's facts of the report's family: releases
// 5 and 5.1 only, the best release per platform and month, and per
// platform and month one report (the master itself if harvested, else the
// first of its views), then sums over every column not shown.
func (s *Server) reportItems(ctx context.Context, li LibraryInfo, req request, begin, end bibstat.Month) ([]any, error) {
	sp := req.spec
	icols := itemCols[sp.Master]
	var sel []string
	sel = append(sel, icols...)
	for _, a := range req.show {
		sel = append(sel, attrExpr[a])
	}
	where := []string{"true"}
	args := []any{sp.Master, string(li.ID), sp.Master, begin.First(), end.First()}
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
		metrics = sp.Metrics
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
		id := req.itemID
		if _, v, ok := strings.Cut(id, ":"); ok && !strings.Contains(strings.ToLower(id), "http") {
			if t := strings.ToLower(id[:strings.Index(id, ":")]); t == "doi" || t == "isbn" || t == "print_issn" || t == "online_issn" || t == "uri" || t == "proprietary" {
				id = v
			}
		}
		where = append(where, "? IN (doi, isbn, print_issn, online_issn, uri, proprietary_id)")
		args = append(args, id)
	}
	if req.author != "" {
		where = append(where, "authors ILIKE ?")
		args = append(args, "%"+req.author+"%")
	}
	platformCond := ""
	if req.platform != "" {
		platformCond = " AND f.platform = ?"
	}
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
WHERE ` + strings.Join(where, " AND ") + `
GROUP BY ALL HAVING sum(count) <> 0
ORDER BY ALL`
	if req.platform != "" {
		// the platform argument belongs after the month range
		args = append(args[:5], append([]any{req.platform}, args[5:]...)...)
	}
	rows, err := s.cfg.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", sp.ID, err)
	}
	defer rows.Close()

	type perf struct {
		attrs []string
		m     map[string]map[string]int64
		order []string
	}
	type item struct {
		cols  []string
		perfs []*perf
		byKey map[string]*perf
	}
	var items []*item
	byKey := map[string]*item{}
	n := len(icols) + len(req.show)
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
			return nil, fmt.Errorf("query %s: %w", sp.ID, err)
		}
		ik := strings.Join(vals[:len(icols)], "\x00")
		it := byKey[ik]
		if it == nil {
			it = &item{cols: vals[:len(icols)], byKey: map[string]*perf{}}
			byKey[ik] = it
			items = append(items, it)
		}
		ak := strings.Join(vals[len(icols):], "\x00")
		p := it.byKey[ak]
		if p == nil {
			p = &perf{attrs: vals[len(icols):], m: map[string]map[string]int64{}}
			it.byKey[ak] = p
			it.perfs = append(it.perfs, p)
		}
		if p.m[metric] == nil {
			p.m[metric] = map[string]int64{}
			p.order = append(p.order, metric)
		}
		p.m[metric][month] += count
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query %s: %w", sp.ID, err)
	}

	out := []any{}
	var irItems []any
	for _, it := range items {
		obj := itemObject(sp.Master, icols, it.cols)
		var aps []any
		for _, p := range it.perfs {
			ap := map[string]any{"Performance": p.m}
			for i, a := range req.show {
				ap[a] = p.attrs[i]
			}
			aps = append(aps, ap)
		}
		obj["Attribute_Performance"] = aps
		if sp.Master == "IR" {
			irItems = append(irItems, obj)
		} else {
			out = append(out, obj)
		}
	}
	if len(irItems) > 0 {
		// Without parent details every item sits under one parentless group.
		out = append(out, map[string]any{"Items": irItems})
	}
	return out, nil
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
