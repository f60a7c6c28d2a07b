package transform

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/bibliotek24/bibstat/schemas"
)

// gatherMaxRows is the most rows a unit's batch may have to be gathered
// row by row; a larger one is joined whole (coalescer), where copying
// columns beats copying rows.
const gatherMaxRows = 512

// gatherRows is the size of the batches the gatherer sends: small enough
// that DuckDB inserts them while the workers parse on (a worker gets some
// 3,000 five-row units of a chunk, so at streamBatchRows the insertion
// began only once the whole chunk was parsed, on one core), large enough
// that a batch's setup in DuckDB is small beside its rows.
const gatherRows = 4096

// gatherer joins the small batches of many units into batches of
// factsSchema of up to size rows, copying their rows into one Batcher. A
// national night is 135,000 objects of five rows each: joining their
// batches with array.Concatenate cost more per unit than reading them
// (38 columns, each a slice of its own per batch), copying five rows far
// less.
type gatherer struct {
	bt    *schemas.Batcher
	units []unitRef // by row of the batch bt gathers
	row   schemas.Row
	send  func(arrow.RecordBatch) error
}

// newGatherer gathers into batches of size rows, handed to send.
func newGatherer(size int, send func(arrow.RecordBatch) error) *gatherer {
	g := &gatherer{send: send}
	g.bt = schemas.NewBatcher(memory.DefaultAllocator, size, g.emit)
	return g
}

// add takes over rec, of Usage, every row of unit u.
func (g *gatherer) add(rec arrow.RecordBatch, u unitRef) error {
	defer rec.Release()
	for i := range int(rec.NumRows()) {
		g.row.SetFrom(rec, i)
		g.units = append(g.units, u) // before Add, which may emit the batch
		if err := g.bt.Add(&g.row); err != nil {
			return err
		}
	}
	return nil
}

// addRow copies r, a row of unit u, into the batch (counter.Options.Rows).
func (g *gatherer) addRow(r *schemas.Row, u unitRef) error {
	g.units = append(g.units, u) // before Add, which may emit the batch
	return g.bt.Add(r)
}

// flush sends what is gathered.
func (g *gatherer) flush() error { return g.bt.Flush() }

func (g *gatherer) release() { g.bt.Release() }

// emit is the Batcher's: rec, of Usage, with each row's unit, to send.
func (g *gatherer) emit(rec arrow.RecordBatch) error {
	defer rec.Release()
	n := int(rec.NumRows())
	keys, libs := array.NewStringBuilder(memory.DefaultAllocator), array.NewStringBuilder(memory.DefaultAllocator)
	defer keys.Release()
	defer libs.Release()
	keys.Reserve(n)
	libs.Reserve(n)
	for _, u := range g.units[:n] {
		keys.Append(u.key)
		libs.Append(u.library)
	}
	g.units = g.units[:copy(g.units, g.units[n:])]
	kcol, lcol := keys.NewArray(), libs.NewArray()
	defer kcol.Release()
	defer lcol.Release()
	cols := append(append(make([]arrow.Array, 0, factsSchema.NumFields()), rec.Columns()...), kcol, lcol)
	return g.send(array.NewRecordBatch(factsSchema, cols, int64(n)))
}
