package transform

import (
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// viewReader is recs with every utf8 column as utf8_view (Arrow's
// string_view) over the same bytes, for DuckDB's Arrow scan: a view is
// DuckDB's own 16-byte string layout, and DuckDB's CREATE TABLE AS from
// the same rows cost it about a sixth less CPU as views than as utf8
// (TestProbeArrowLayouts; BENCHMARKS.md "## Parse", 2 December). The text
// is not copied: each view of more than 12 bytes points into the utf8
// column's own data buffer, which the view array holds.
type viewReader struct {
	recs   array.RecordReader
	schema *arrow.Schema
	cur    arrow.RecordBatch
	refs   atomic.Int64
	zeros  []byte // see noViews
}

// newViewReader takes over recs.
func newViewReader(recs array.RecordReader) *viewReader {
	r := &viewReader{recs: recs, schema: viewSchema(recs.Schema())}
	r.refs.Store(1)
	return r
}

// viewSchema is s with utf8 fields as utf8_view.
func viewSchema(s *arrow.Schema) *arrow.Schema {
	fields := s.Fields()
	for i, f := range fields {
		if f.Type.ID() == arrow.STRING {
			fields[i].Type = arrow.BinaryTypes.StringView
		}
	}
	md := s.Metadata()
	return arrow.NewSchema(fields, &md)
}

func (r *viewReader) Schema() *arrow.Schema { return r.schema }

func (r *viewReader) Retain() { r.refs.Add(1) }

func (r *viewReader) Release() {
	if r.refs.Add(-1) != 0 {
		return
	}
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	r.recs.Release()
}

func (r *viewReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if !r.recs.Next() {
		return false
	}
	r.cur = r.withViews(r.recs.RecordBatch())
	return true
}

// noViews is the views of n empty texts: one zeroed buffer that every
// column of only empty texts shares (nothing writes to a sent batch), as
// most of a report's 35 text columns are, in place of 16 bytes a row each.
func (r *viewReader) noViews(n int) *memory.Buffer {
	size := arrow.ViewHeaderTraits.BytesRequired(n)
	if len(r.zeros) < size {
		r.zeros = make([]byte, size)
	}
	return memory.NewBufferBytes(r.zeros[:size])
}

func (r *viewReader) RecordBatch() arrow.RecordBatch { return r.cur }

func (r *viewReader) Record() arrow.RecordBatch { return r.cur }

func (r *viewReader) Err() error { return r.recs.Err() }

// withViews is rec with its utf8 columns as views, of r.schema. rec
// stays the caller's.
func (r *viewReader) withViews(rec arrow.RecordBatch) arrow.RecordBatch {
	cols := make([]arrow.Array, rec.NumCols())
	for i, col := range rec.Columns() {
		if s, ok := col.(*array.String); ok {
			cols[i] = r.stringViews(s)
		} else {
			col.Retain()
			cols[i] = col
		}
	}
	out := array.NewRecordBatch(r.schema, cols, rec.NumRows())
	for _, col := range cols {
		col.Release()
	}
	return out
}

// stringViews is a's values as a utf8_view array: a value of up to 12
// bytes inline in its view, a longer one as its first 4 bytes and its
// place in a's data buffer, the view array's one data buffer.
func (r *viewReader) stringViews(a *array.String) arrow.Array {
	n := a.Len()
	bufs := a.Data().Buffers()
	text := bufs[2]
	if text == nil {
		text = memory.NewBufferBytes(nil)
	} else {
		text.Retain()
	}
	defer text.Release()
	offsets := a.ValueOffsets() // into text, a's offset included
	if a.NullN() == 0 && offsets[0] == offsets[n] {
		return viewArray(n, nil, r.noViews(n), text, 0)
	}
	// Cleared memory: an inline view's bytes after its value are zero, as
	// Arrow requires and DuckDB's comparison of inline strings assumes.
	views := make([]arrow.ViewHeader, n)
	bytes := text.Bytes()
	for i := range views {
		start, end := offsets[i], offsets[i+1]
		v := &views[i]
		v.SetBytes(bytes[start:end])
		if !v.IsInline() {
			v.SetIndexOffset(0, start)
		}
	}
	var valid *memory.Buffer
	if a.NullN() > 0 {
		// The views start at row 0; a's bits at its offset.
		b := make([]byte, bitutil.BytesForBits(int64(n)))
		bitutil.CopyBitmap(bufs[0].Bytes(), a.Data().Offset(), n, b, 0)
		valid = memory.NewBufferBytes(b)
	}
	return viewArray(n, valid, memory.NewBufferBytes(arrow.ViewHeaderTraits.CastToBytes(views)), text, a.NullN())
}

// viewArray is n views, of which nulls are null, over text.
func viewArray(n int, valid, views, text *memory.Buffer, nulls int) arrow.Array {
	data := array.NewData(arrow.BinaryTypes.StringView, n, []*memory.Buffer{valid, views, text}, nil, nulls, 0)
	defer data.Release()
	return array.MakeFromData(data)
}
