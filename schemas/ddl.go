package schemas

import (
	"embed"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

//go:embed sql/*.sql
var sqlFiles embed.FS

// SQL returns an embedded DDL file, e.g. SQL("warehouse.sql").
func SQL(name string) (string, error) {
	b, err := sqlFiles.ReadFile("sql/" + name)
	if err != nil {
		return "", fmt.Errorf("schemas: %w", err)
	}
	return string(b), nil
}

// FactsColumns is the DuckDB column list of the facts view (and of the
// table facts_loose): the unit and library a row belongs to, then every
// Usage column. It is derived from the Arrow schema so the two cannot
// drift apart.
func FactsColumns() string {
	names := make([]string, 0, len(Usage.Fields()))
	for _, f := range Usage.Fields() {
		names = append(names, f.Name)
	}
	return "unit_key VARCHAR NOT NULL,\n  library_id VARCHAR NOT NULL,\n  " + columnDefs(names)
}

// The warehouse stores a facts row narrow (facts_rows): its unit as a
// number, the numbers of its head and its item, and the few columns that
// are the row's own. A row's text is mostly its item's (title,
// identifiers, parent, …), which many rows share, and its head's (the
// library and what the report's header says), which a unit's rows share:
// stored once each, so DuckDB checks, analyses and compresses a few
// columns a row, not 37.

// FactsRowColumns are the Usage columns kept in every row of facts_rows:
// the metric, month and count, and data_type, which agg_usage groups
// every row by (so that it never joins the items).
var FactsRowColumns = []string{ColDataType, ColMetricType, ColMonth, ColCount}

// FactsHeadColumns are the columns of a row's head: its library and the
// Usage columns a report's header gives (constant in a unit, mostly; a
// row with other values has another head).
var FactsHeadColumns = []string{"library_id", ColRelease, ColReportID, ColCustomerID, ColInstitutionID,
	ColInstitutionName, ColPlatform, ColSourceKey}

// FactsItemColumns are the Usage columns of a row's item: every column
// that is neither the row's own nor its head's, so a column added to
// Usage is an item's and the facts view gives it.
func FactsItemColumns() []string {
	var out []string
	for _, f := range Usage.Fields() {
		if !slices.Contains(FactsRowColumns, f.Name) && !slices.Contains(FactsHeadColumns, f.Name) {
			out = append(out, f.Name)
		}
	}
	return out
}

// columnDefs is the DuckDB column list of the Usage (or head) columns cols.
func columnDefs(cols []string) string {
	defs := make([]string, len(cols))
	for i, c := range cols {
		t := "VARCHAR"
		if f, ok := Usage.FieldsByName(c); ok && len(f) == 1 {
			t = duckType(f[0].Type)
		}
		defs[i] = c + " " + t
	}
	return strings.Join(defs, ",\n  ")
}

// ItemColumnDefs and HeadColumnDefs are the column lists of the tables
// items and heads, after their number.
func ItemColumnDefs() string { return columnDefs(FactsItemColumns()) }

// HeadColumnDefs: see ItemColumnDefs.
func HeadColumnDefs() string { return columnDefs(FactsHeadColumns) }

// RowColumnDefs is the column list of facts_rows after its numbers, in
// FactsRowColumns' order, which the load's insert into it follows.
func RowColumnDefs() string { return columnDefs(FactsRowColumns) }

// HeadsViewColumns are the columns of the view narrow.facts_heads: the
// unit, the head's columns and the row's own.
func HeadsViewColumns() string {
	return strings.Join(slices.Concat([]string{"unit_key"}, FactsHeadColumns, FactsRowColumns), ", ")
}

// FactsViewSelect is the select list of the facts view over facts_rows f,
// units u, heads h and items i: exactly the columns of FactsColumns, in
// its order.
func FactsViewSelect() string {
	cols := []string{"u.unit_key", "h.library_id"}
	for _, f := range Usage.Fields() {
		switch {
		case slices.Contains(FactsRowColumns, f.Name):
			cols = append(cols, "f."+f.Name)
		case slices.Contains(FactsHeadColumns, f.Name):
			cols = append(cols, "h."+f.Name)
		default:
			cols = append(cols, "i."+f.Name)
		}
	}
	return strings.Join(cols, ", ")
}

func duckType(t arrow.DataType) string {
	switch t.ID() {
	case arrow.STRING:
		return "VARCHAR"
	case arrow.INT32:
		return "INTEGER"
	case arrow.INT64:
		return "BIGINT"
	case arrow.DATE32:
		return "DATE"
	}
	panic("schemas: no DuckDB type for " + t.String()) // a programming error caught by TestFactsColumns
}
