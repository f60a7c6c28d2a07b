package schemas

import (
	"strings"
	"testing"
)

func TestFactsColumns(t *testing.T) {
	cols := FactsColumns()
	for _, want := range []string{"unit_key VARCHAR NOT NULL", "title VARCHAR", "yop INTEGER", "month DATE", "count BIGINT"} {
		if !strings.Contains(cols, want) {
			t.Errorf("facts columns lack %q:\n%s", want, cols)
		}
	}
	ddl, err := SQL("warehouse.sql")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ddl, "{{FACTS_COLUMNS}}") {
		t.Error("warehouse.sql lost its {{FACTS_COLUMNS}} placeholder")
	}
}
