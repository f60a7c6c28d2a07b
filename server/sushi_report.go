package server

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/counter"
)

// Attribute expressions normalise what vendors leave empty or name the R5
// way: Access_Method Regular, Access_Type Controlled (licensed content);
// R5's OA_Gold is R5.1's Open. Data_Type is dataTypeExpr's.
var attrExpr = map[string]string{
	"YOP":           `coalesce(lpad(CAST(yop AS VARCHAR), 4, '0'), '0001')`,
	"Access_Type":   `CASE access_type WHEN '' THEN 'Controlled' WHEN 'OA_Gold' THEN 'Open' WHEN 'Other_Free_To_Read' THEN 'Free_To_Read' ELSE access_type END`,
	"Access_Method": `coalesce(nullif(access_method, ''), 'Regular')`,
}

// databaseTypes are the Data_Types of a database's own searches and
// denials in DR; every other DR Data_Type carries item metrics only (CoP
// 5.1 Table 3.p, the API's DR_Attribute_Performance_Database/_Other).
var databaseTypes = []string{"Database_Aggregated", "Database_AI", "Database_Full"}

// databaseMetrics are DR's metrics counted against the database itself.
var databaseMetrics = slices.Concat(counter.DatabaseSearchMetrics, counter.DenialMetrics)

// expr is the SQL of an attribute column of the report's master.
func expr(master, attr string) string {
	if attr == "Data_Type" {
		return dataTypeExpr(master)
	}
	return attrExpr[attr]
}

// dataTypeExpr is the Data_Type a fact is served under: the one the vendor
// said when it is an R5.1 value of the report, else the one COUNTER
// prescribes. Usage without a Data_Type (an R5 harvest that did not ask
// for it), or with an R5 one R5.1 dropped (Database, Repository_Item), is
// "Unspecified", the CoP's value for "content that cannot be classified
// ... due to lack of sufficient information" (Table 3.p). A database's
// searches and denials are of the database's type: the one the vendor
// gives that database in any R5.1 harvest (db_type), else
// Database_Aggregated, R5's "Database" of aggregated full content, which
// is what a consortium of public libraries licenses as databases.
// Searches_Platform is of Data_Type Platform (CoP 5.1 PR).
func dataTypeExpr(master string) string {
	items := sqlList(itemDataTypes(master))
	switch master {
	case "PR":
		return `CASE WHEN metric_type = 'Searches_Platform' THEN 'Platform' WHEN data_type IN (` + items + `) THEN data_type ELSE 'Unspecified' END`
	case "DR":
		return `CASE WHEN metric_type IN (` + sqlList(databaseMetrics) + `) THEN coalesce(CASE WHEN data_type IN (` + sqlList(databaseTypes) + `) THEN data_type END, db_type, 'Database_Aggregated')
			WHEN data_type IN (` + items + `) THEN data_type ELSE 'Unspecified' END`
	}
	return `CASE WHEN data_type IN (` + items + `) THEN data_type ELSE 'Unspecified' END`
}

// itemDataTypes are the master's Data_Types for item usage, but Unspecified.
func itemDataTypes(master string) []string {
	sp := specByPath(lower(master))
	if sp == nil {
		return nil
	}
	return slices.DeleteFunc(slices.Clone(sp.DataTypes), func(dt string) bool {
		return dt == "Unspecified" || dt == "Platform" || slices.Contains(databaseTypes, dt)
	})
}

// sqlList quotes COUNTER names (letters and underscores only) as an SQL list.
func sqlList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + n + "'"
	}
	return strings.Join(q, ", ")
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
		"Institution_Name": institutionName(li), "Institution_ID": institutionID(li),
		"Report_Filters": reportFilters(req, end, noData), "Created": s.cfg.Now().UTC().Format(time.RFC3339),
		"Created_By": "BibStat (Bibliotek24)", "Registry_Record": "",
	}
	if attrs := reportAttributes(req); len(attrs) > 0 {
		header["Report_Attributes"] = attrs
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

// reportAttributes is the header's Report_Attributes: what the request
// asked for and is served. Granularity appears only for Totals: the
// COUNTER Validator reads any Granularity as Totals.
func reportAttributes(req request) map[string]any {
	attrs := map[string]any{}
	if !req.spec.view() && len(req.show) > 1 {
		attrs["Attributes_To_Show"] = req.show[1:] // Data_Type is not an attribute to show
	}
	if req.totals {
		attrs["Granularity"] = "Totals"
	}
	if req.parents && !req.spec.view() {
		attrs["Include_Parent_Details"] = "True"
	}
	return attrs
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
	icols := req.itemCols()
	q, args := itemsQuery(li, req, begin, end)
	rows, err := s.cfg.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", sp.ID, err)
	}
	defer rows.Close()
	monthKey := ""
	if req.totals {
		monthKey = begin.String() // Totals: one count per metric, under the first month (as the COUNTER Validator reads it)
	}
	items, err := scanItems(rows, len(icols), len(req.show), monthKey)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", sp.ID, err)
	}
	return shapeItems(req, icols, items), nil
}

// itemsQuery is the SQL of a report and its arguments: the library's facts
// that count (facts_chosen: one source and one release per platform and
// month, the warehouse's rule of choice), of releases 5 and 5.1 only, and
// per platform and month one report (the master itself if harvested, else
// the first of its views), summed over every column not shown. DR looks
// up each database's Data_Type in every harvest (see dataTypeExpr): a
// name, not a count, so any harvest may say it.
func itemsQuery(li LibraryInfo, req request, begin, end bibstat.Month) (string, []any) {
	sp := req.spec
	var sel []string
	for _, c := range req.itemCols() {
		sel = append(sel, "coalesce("+c+", '')")
	}
	for _, a := range req.show {
		sel = append(sel, expr(sp.Master, a))
	}
	args := []any{sp.Master, string(li.ID), sp.Master, begin.First(), end.First()}
	dbType, dbJoin := "NULL", ""
	if sp.Master == "DR" {
		dbType, dbJoin = "d.db_type", `
  LEFT JOIN (SELECT platform, database, min(data_type) AS db_type FROM facts
             WHERE data_type IN (`+sqlList(databaseTypes)+`) GROUP BY ALL) d USING (platform, database)`
	}
	platformCond := ""
	if req.platform != "" {
		platformCond = " AND f.platform = ?"
		args = append(args, req.platform)
	}
	where, whereArgs := itemsWhere(req)
	q := `
WITH f AS (
  SELECT f.*, ` + dbType + ` AS db_type,
         CASE WHEN upper(f.report_id) = ? THEN '0' ELSE '1' END || upper(f.report_id) AS rk
  FROM facts_chosen f` + dbJoin + `
  WHERE f.target_kind = 'library' AND f.target_id = ? AND split_part(upper(f.report_id), '_', 1) = ?
    AND f.release LIKE '5%' AND f.month BETWEEN ? AND ?` + platformCond + `
),
best_report AS (SELECT platform, month, min(rk) AS rk FROM f GROUP BY ALL)
SELECT ` + strings.Join(sel, ", ") + `, metric_type, strftime(month, '%Y-%m'), sum(count)::BIGINT
FROM f JOIN best_report USING (platform, month, rk)
WHERE ` + where + `
GROUP BY ALL HAVING sum(count) <> 0
ORDER BY ALL`
	return q, append(args, whereArgs...)
}

// itemsWhere is the condition the request's filters put on the facts.
func itemsWhere(req request) (string, []any) {
	where := []string{"true"}
	var args []any
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		ph := strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")
		where = append(where, col+" IN ("+ph+")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	metrics := req.metrics
	if len(metrics) == 0 {
		metrics = req.spec.Metrics
	}
	in("metric_type", metrics)
	in(dataTypeExpr(req.spec.Master), req.dataTypes)
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
