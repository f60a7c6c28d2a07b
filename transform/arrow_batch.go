package transform

import (
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/bibliotek24/bibstat/schemas"
)

// streamBatchRows is the fewest rows a batch of parsed rows goes to DuckDB
// with: a national night is 135,000 objects of a handful of rows each, and
// every batch crossing into DuckDB costs its 38 columns' setup, so small
// objects' batches are joined first.
const streamBatchRows = 16 * 1024

// coalescer joins record batches of factsSchema into batches of at least min rows
// (a larger one passes as it is) and hands them to send.
type coalescer struct {
	send func(arrow.RecordBatch) error
	min  int64
	held []arrow.RecordBatch
	rows int64
}

// add takes over rec.
func (c *coalescer) add(rec arrow.RecordBatch) error {
	if len(c.held) == 0 && rec.NumRows() >= c.min {
		return c.send(rec)
	}
	c.held = append(c.held, rec)
	c.rows += rec.NumRows()
	if c.rows >= c.min {
		return c.flush()
	}
	return nil
}

// flush sends what is held, joined into one batch.
func (c *coalescer) flush() error {
	switch len(c.held) {
	case 0:
		return nil
	case 1:
		rec := c.held[0]
		c.held, c.rows = c.held[:0], 0
		return c.send(rec)
	}
	rec, err := concatBatches(c.held, c.rows)
	c.release()
	if err != nil {
		return err
	}
	return c.send(rec)
}

// release drops what is held, unsent.
func (c *coalescer) release() {
	for _, rec := range c.held {
		rec.Release()
	}
	c.held, c.rows = c.held[:0], 0
}

// concatBatches is recs, of factsSchema, as one batch of rows rows.
func concatBatches(recs []arrow.RecordBatch, rows int64) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, factsSchema.NumFields())
	defer func() {
		for _, col := range cols {
			if col != nil {
				col.Release()
			}
		}
	}()
	parts := make([]arrow.Array, len(recs))
	for j := range cols {
		for i, rec := range recs {
			parts[i] = rec.Column(j)
		}
		col, err := array.Concatenate(parts, memory.DefaultAllocator)
		if err != nil {
			return nil, fmt.Errorf("join parsed batches: %w", err)
		}
		cols[j] = col
	}
	return array.NewRecordBatch(factsSchema, cols, rows), nil
}

// factsSchema is Usage with what the load adds of facts: each row's unit
// (unit_key) and library. The parsed rows carry both into DuckDB, so that
// the insertion is a scan, not a join with the load map, which DuckDB
// would build its hash table from the wrong side of: it takes a stream it
// cannot count for one row.
var factsSchema = arrow.NewSchema(append(slices.Clone(schemas.Usage.Fields()),
	arrow.Field{Name: "unit_key", Type: arrow.BinaryTypes.String},
	arrow.Field{Name: "library_id", Type: arrow.BinaryTypes.String}), nil)

// unitRef is what a unit's rows carry of it.
type unitRef struct{ key, library string }

// withUnit is rec, of Usage, as a batch of factsSchema with every row of
// unit u. It takes over rec.
func withUnit(rec arrow.RecordBatch, u unitRef) arrow.RecordBatch {
	defer rec.Release()
	n := int(rec.NumRows())
	cols := append(slices.Clone(rec.Columns()), constString(u.key, n), constString(u.library, n))
	out := array.NewRecordBatch(factsSchema, cols, int64(n))
	cols[len(cols)-2].Release()
	cols[len(cols)-1].Release()
	return out
}

// withUnits hands to add the rows of rec (of Usage, taken over) whose
// source_key names a unit of units, each run of one unit's rows as a
// slice of rec with its unit: the rows of an upload's file, of many units,
// some of which this chunk does not load.
func withUnits(rec arrow.RecordBatch, units map[string]unitRef, add func(arrow.RecordBatch, unitRef) error) error {
	defer rec.Release()
	keys, ok := rec.Column(schemas.Usage.FieldIndices(schemas.ColSourceKey)[0]).(*array.String)
	if !ok {
		return fmt.Errorf("parsed rows: %s is not text", schemas.ColSourceKey)
	}
	// Runs of rows of one unit go as slices of rec; add joins them.
	n := int(rec.NumRows())
	for i := 0; i < n; {
		j := i + 1
		for j < n && keys.Value(j) == keys.Value(i) {
			j++
		}
		if u, ok := units[keys.Value(i)]; ok {
			if err := add(rec.NewSlice(int64(i), int64(j)), u); err != nil {
				return err
			}
		}
		i = j
	}
	return nil
}

// constString is n rows of s.
func constString(s string, n int) arrow.Array {
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	b.Reserve(n)
	b.ReserveData(n * len(s))
	for range n {
		b.Append(s)
	}
	return b.NewArray()
}
