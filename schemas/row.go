package schemas

import (
	"fmt"
	"time"

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

// DefaultBatchRows is how many rows a Batcher gathers before it emits a
// record batch: large enough for columnar speed, small enough that memory is
// bounded by the batch, not the file.
const DefaultBatchRows = 64 * 1024

// Batcher turns Rows into Usage record batches of at most Size rows and
// hands each to Emit, which owns (and must Release) the batch.
type Batcher struct {
	Size int
	Emit func(arrow.RecordBatch) error

	b    *array.RecordBuilder
	strs []*array.StringBuilder
	yop  *array.Int32Builder
	mon  *array.Date32Builder
	cnt  *array.Int64Builder
	n    int
}

// NewBatcher returns a Batcher on mem (nil: the Go allocator).
func NewBatcher(mem memory.Allocator, size int, emit func(arrow.RecordBatch) error) *Batcher {
	if mem == nil {
		mem = memory.NewGoAllocator()
	}
	if size <= 0 {
		size = DefaultBatchRows
	}
	b := array.NewRecordBuilder(mem, Usage)
	bt := &Batcher{Size: size, Emit: emit, b: b}
	for i := range StringColumns {
		bt.strs = append(bt.strs, b.Field(i).(*array.StringBuilder))
	}
	n := len(StringColumns)
	bt.yop = b.Field(n).(*array.Int32Builder)
	bt.mon = b.Field(n + 1).(*array.Date32Builder)
	bt.cnt = b.Field(n + 2).(*array.Int64Builder)
	return bt
}

// Add appends r, emitting a batch when Size rows are gathered.
func (bt *Batcher) Add(r *Row) error {
	if r.Month.IsZero() {
		return fmt.Errorf("usage row: no month")
	}
	for i, s := range r.texts() {
		bt.strs[i].Append(*s)
	}
	if r.HasYOP {
		bt.yop.Append(r.YOP)
	} else {
		bt.yop.AppendNull()
	}
	bt.mon.Append(arrow.Date32FromTime(r.Month))
	bt.cnt.Append(r.Count)
	bt.n++
	if bt.n >= bt.Size {
		return bt.Flush()
	}
	return nil
}

// Rows is how many rows wait in the current, unemitted batch.
func (bt *Batcher) Rows() int { return bt.n }

// Flush emits the rows gathered so far, if any.
func (bt *Batcher) Flush() error {
	if bt.n == 0 {
		return nil
	}
	rec := bt.b.NewRecordBatch()
	bt.n = 0
	return bt.Emit(rec)
}

// Release frees the builder; call it once the Batcher is done.
func (bt *Batcher) Release() { bt.b.Release() }
