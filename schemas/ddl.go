package schemas

import (
	"embed"
	"fmt"
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

// FactsColumns is the DuckDB column list of the facts table: the unit and
// library a row belongs to, then every Usage column. It is derived from the
// Arrow schema so the two cannot drift apart.
func FactsColumns() string {
	cols := []string{"unit_key VARCHAR NOT NULL", "library_id VARCHAR NOT NULL"}
	for _, f := range Usage.Fields() {
		cols = append(cols, fmt.Sprintf("%s %s", f.Name, duckType(f.Type)))
	}
	return strings.Join(cols, ",\n  ")
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
