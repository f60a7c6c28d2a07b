package schemas

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Row is one usage row as a reader sees it before it becomes Arrow.
// Readers fill one Row and reuse it; Batcher copies what it needs.
type Row struct {
	Release, ReportID, CustomerID, InstitutionID, InstitutionName string
	Platform, Publisher, PublisherID, Title                       string
	DOI, ISBN, PrintISSN, OnlineISSN, URI, ProprietaryID          string
	DataType, SectionType, AccessType, AccessMethod               string
	Authors, PublicationDate, ArticleVersion                      string
	ParentTitle, ParentDataType, ParentDOI, ParentISBN            string
	ParentPrintISSN, ParentOnlineISSN, ParentURI, ParentPropID    string
	ComponentTitle, ComponentDataType                             string
	MetricType, SourceKey                                         string
	Database                                                      string

	YOP    int32 // valid only when HasYOP
	HasYOP bool
	Month  time.Time // first day of the month, UTC
	Count  int64
}

// texts lists the text fields in StringColumns order.
func (r *Row) texts() [35]*string {
	return [35]*string{
		&r.Release, &r.ReportID, &r.CustomerID, &r.InstitutionID, &r.InstitutionName,
		&r.Platform, &r.Publisher, &r.PublisherID, &r.Title,
		&r.DOI, &r.ISBN, &r.PrintISSN, &r.OnlineISSN, &r.URI, &r.ProprietaryID,
		&r.DataType, &r.SectionType, &r.AccessType, &r.AccessMethod,
		&r.Authors, &r.PublicationDate, &r.ArticleVersion,
		&r.ParentTitle, &r.ParentDataType, &r.ParentDOI, &r.ParentISBN,
		&r.ParentPrintISSN, &r.ParentOnlineISSN, &r.ParentURI, &r.ParentPropID,
		&r.ComponentTitle, &r.ComponentDataType,
		&r.MetricType, &r.SourceKey,
		&r.Database,
	}
}

// SetFrom copies row i of a Usage record batch into r, the inverse of
// Batcher.Add. The text fields point into rec's buffers: they are valid
// while rec is.
func (r *Row) SetFrom(rec arrow.RecordBatch, i int) {
	for c, f := range r.texts() {
		*f = rec.Column(c).(*array.String).Value(i)
	}
	n := len(StringColumns)
	yop := rec.Column(n).(*array.Int32)
	r.HasYOP = yop.IsValid(i)
	r.YOP = 0
	if r.HasYOP {
		r.YOP = yop.Value(i)
	}
	r.Month = rec.Column(n + 1).(*array.Date32).Value(i).ToTime()
	r.Count = rec.Column(n + 2).(*array.Int64).Value(i)
}

// DefaultBatchRows is how many rows a Batcher gathers before it emits a
// record batch: large enough for columnar speed, small enough that memory is
// bounded by the batch, not the file.
const DefaultBatchRows = 64 * 1024

// Batcher turns Rows into Usage record batches of at most Size rows and
// hands each to Emit, which owns (and must Release) the batch.
//
// Text columns are gathered in plain Go slices (offsets and bytes) and
// handed to Arrow without a copy when a batch is emitted: Arrow's
// per-value StringBuilder was most of the cost of reading a large file.
type Batcher struct {
	Size int
	Emit func(arrow.RecordBatch) error

	mem  memory.Allocator
	strs []textColumn
	yop  *array.Int32Builder
	// mon and cnt are gathered as text is, in plain slices: the Arrow
	// builders' per-value checks showed in the parse's profile.
	mon   []arrow.Date32
	cnt   []int64
	zeros []int32 // see noText
	n     int

	// held are the texts of the last row whose texts were written, and
	// repeats how many rows since took the same texts, written later by
	// settle; heldFit bounds repeats by maxTextBytes, and heldOK says held
	// is in the current batch.
	held    [35]string
	repeats int
	heldFit int
	heldOK  bool
}

// textColumn is one utf8 column being gathered: Arrow's layout, offsets
// starting at 0 and the values' bytes end to end. The offsets are
// written lazily: rows past len(offsets)-1 are empty (their offset is
// n), so that the many columns a report leaves empty cost a comparison a
// row, not an append; Flush writes the rest at once.
//
// data is the room for the bytes, of which the first n are written: Add
// copies into it rather than appending, so that it stores no pointer a
// value (under the garbage collector's write barrier, that store was a
// tenth of the parse's Go CPU), and the room is uncleared memory, since
// every byte of it is written before it is read.
type textColumn struct {
	offsets []int32
	data    []byte
	n       int
}

// noText is the offsets of a column of bt.n empty values: one zeroed
// slice, kept, that every empty column of every batch shares (no one
// writes to an emitted batch), where each had its own of a batch's size.
func (bt *Batcher) noText() []int32 {
	if len(bt.zeros) <= bt.n {
		bt.zeros = make([]int32, bt.n+1)
	}
	return bt.zeros[:bt.n+1]
}

// padTo gives c an offset for each of the first n rows.
func (c *textColumn) padTo(n int) {
	end := int32(c.n)
	for len(c.offsets) <= n {
		c.offsets = append(c.offsets, end)
	}
}

// NewBatcher returns a Batcher on mem (nil: the Go allocator).
func NewBatcher(mem memory.Allocator, size int, emit func(arrow.RecordBatch) error) *Batcher {
	if mem == nil {
		mem = memory.NewGoAllocator()
	}
	if size <= 0 {
		size = DefaultBatchRows
	}
	bt := &Batcher{Size: size, Emit: emit, mem: mem, strs: make([]textColumn, len(StringColumns)),
		yop: array.NewInt32Builder(mem)}
	for i := range bt.strs {
		bt.strs[i].offsets = []int32{0}
	}
	return bt
}

// maxTextBytes bounds one text column of one batch: Arrow's utf8 offsets are int32.
const maxTextBytes = 1<<31 - 1

// Add appends r, emitting a batch when Size rows are gathered.
//
// r's texts are Go strings, which never change: Add takes those that are
// the last row's strings by address and length for the same bytes (see
// sameTexts). A text over memory that is freed and reused while still
// held (Row.SetFrom on a record whose allocator is not Go's, released
// before the next Add) would break that; every record here is on Go's.
func (bt *Batcher) Add(r *Row) error {
	if r.Month.IsZero() {
		return fmt.Errorf("usage row: no month")
	}
	if bt.heldOK && bt.repeats < bt.heldFit && bt.sameTexts(r) {
		// The months of one report row: their texts are written at once.
		bt.repeats++
	} else if err := bt.addTexts(r); err != nil {
		return err
	}
	if r.HasYOP {
		bt.yop.Append(r.YOP)
	} else {
		bt.yop.AppendNull()
	}
	bt.mon = append(bt.mon, date32(r.Month))
	bt.cnt = append(bt.cnt, r.Count)
	bt.n++
	if bt.n >= bt.Size {
		return bt.Flush()
	}
	return nil
}

// textArray is r's text fields as one array: Row declares them first,
// one after the other, in texts order (TestTextArrayIsTheTexts).
func textArray(r *Row) *[35]string { return (*[35]string)(unsafe.Pointer(&r.Release)) }

// sameTexts says whether r's texts are those held: the same strings, by
// address and length, which for Go's immutable strings (the held ones are
// kept alive) means the same bytes. It compares the strings' headers as
// one block of memory, a fraction of the cost of 35 string comparisons.
func (bt *Batcher) sameTexts(r *Row) bool {
	type headers = [35 * unsafe.Sizeof("") / unsafe.Sizeof(uintptr(0))]uintptr
	return *(*headers)(unsafe.Pointer(textArray(r))) == *(*headers)(unsafe.Pointer(&bt.held))
}

// addTexts writes r's texts as row bt.n, after the repeats of the ones
// held, and holds them.
func (bt *Batcher) addTexts(r *Row) error {
	bt.settle()
	bt.heldOK = false
	texts := textArray(r)
	bt.held = *texts
	strs := bt.strs[:len(texts)]
	maxLen, maxEnd := 0, 0
	for i, v := range texts {
		if v == "" {
			continue // the offset is written when the column next holds text, or by Flush
		}
		c := &strs[i]
		end := c.n + len(v)
		if end > maxTextBytes {
			return fmt.Errorf("usage row: column %s holds more than %d bytes in one batch", StringColumns[i], maxTextBytes)
		}
		if end > len(c.data) {
			c.grow(len(v))
		}
		if len(c.offsets) <= bt.n {
			c.padTo(bt.n)
		}
		copy(c.data[c.n:end], v)
		c.n = end
		c.offsets = append(c.offsets, int32(end))
		maxLen, maxEnd = max(maxLen, len(v)), max(maxEnd, end)
	}
	bt.heldOK, bt.heldFit = true, math.MaxInt
	if maxLen > 0 {
		bt.heldFit = (maxTextBytes - maxEnd) / maxLen
	}
	return nil
}

// settle writes the held texts' repeats that Add put off: each value
// doubled from the copy before it, a few copies for a row's twelve months
// rather than one a month.
func (bt *Batcher) settle() {
	k := bt.repeats
	if k == 0 {
		return
	}
	bt.repeats = 0
	for i, v := range &bt.held {
		if v == "" {
			continue
		}
		c := &bt.strs[i]
		start, end := c.n-len(v), c.n+k*len(v)
		if end > len(c.data) {
			c.grow(end - c.n)
		}
		for c.n < end {
			// data[start:c.n] is v repeated, so a copy of its first m bytes
			// (a multiple of len(v)) is too.
			m := min(c.n-start, end-c.n)
			copy(c.data[c.n:c.n+m], c.data[start:start+m])
			c.n += m
		}
		for off := end - (k-1)*len(v); off <= end; off += len(v) {
			c.offsets = append(c.offsets, int32(off))
		}
	}
}

// Rows is how many rows wait in the current, unemitted batch.
func (bt *Batcher) Rows() int { return bt.n }

// Flush emits the rows gathered so far, if any.
func (bt *Batcher) Flush() error {
	if bt.n == 0 {
		return nil
	}
	bt.settle()
	bt.heldOK = false // the held texts stay in this batch
	cols := make([]arrow.Array, 0, len(Usage.Fields()))
	for i := range bt.strs {
		c := &bt.strs[i]
		offsets, text := bt.noText(), []byte{}
		if c.n > 0 {
			c.padTo(bt.n)
			offsets, text = c.offsets, c.data[:c.n]
			// The emitted batch owns the old memory; start anew with room for
			// as much again and an eighth (grow's doubling would hold on to
			// up to twice what a batch needs).
			c.offsets = append(uncleared[int32](cap(c.offsets))[:0], 0)
			c.data, c.n = uncleared[byte](c.n+c.n/8), 0
		}
		data := array.NewData(arrow.BinaryTypes.String, bt.n,
			[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offsets)), memory.NewBufferBytes(text)},
			nil, 0, 0)
		cols = append(cols, array.MakeFromData(data))
		data.Release()
	}
	cols = append(cols, bt.yop.NewArray(), fixedWidth(arrow.FixedWidthTypes.Date32, arrow.Date32Traits.CastToBytes(bt.mon), bt.n),
		fixedWidth(arrow.PrimitiveTypes.Int64, arrow.Int64Traits.CastToBytes(bt.cnt), bt.n))
	// The emitted batch owns the old slices, as with text.
	bt.mon, bt.cnt = uncleared[arrow.Date32](cap(bt.mon))[:0], uncleared[int64](cap(bt.cnt))[:0]
	rec := array.NewRecordBatch(Usage, cols, int64(bt.n))
	for _, c := range cols {
		c.Release()
	}
	bt.n = 0
	return bt.Emit(rec)
}

// grow makes room in c for n bytes more.
func (c *textColumn) grow(n int) {
	d := uncleared[byte](min(2*len(c.data)+n, maxTextBytes))
	copy(d, c.data[:c.n])
	c.data = d
}

// uncleared is at least n Ts of memory that Go has not cleared, for a
// slice whose every element is written before it is read: a fresh batch's
// slices are written once whole by Add, and clearing them first was a
// fifth of the parse's Go CPU. A strings.Builder's Grow is the standard
// library's way to such memory; the one byte written gives its address.
func uncleared[T ~byte | ~int32 | ~int64](n int) []T {
	size := int(unsafe.Sizeof(T(0)))
	var b strings.Builder
	b.Grow(max(n, 1) * size) // Go aligns a block of a multiple of 4 (8) bytes to 4 (8): right for T
	b.WriteByte(0)
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.StringData(b.String()))), b.Cap()/size)
}

// Release frees the builders; call it once the Batcher is done.
func (bt *Batcher) Release() {
	bt.yop.Release()
}

// fixedWidth is an array of n values of typ, without nulls, on b.
func fixedWidth(typ arrow.DataType, b []byte, n int) arrow.Array {
	data := array.NewData(typ, n, []*memory.Buffer{nil, memory.NewBufferBytes(b)}, nil, 0, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

// date32 is arrow.Date32FromTime(t) without its Truncate, the larger part
// of its cost: the days since 1970-01-01 of t's instant, rounded down.
func date32(t time.Time) arrow.Date32 {
	s := t.Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return arrow.Date32(d)
}
