package accesslog_test

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

func newTableReader(tbl arrow.Table) *array.TableReader { return array.NewTableReader(tbl, 0) }
