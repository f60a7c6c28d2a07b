package schemas

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
)

// Stream is an array.RecordReader of record batches that other goroutines
// send while it is read: DuckDB scans parsed rows as they are parsed, or a
// Parquet writer writes them, instead of waiting for the whole parse.
// Senders call Send, and CloseSend once all are done; the reader calls
// Next until it is false, then Err.
type Stream struct {
	schema    *arrow.Schema
	refs      atomic.Int64
	ch        chan arrow.RecordBatch
	gone      chan struct{} // closed by the last Release: sends are refused
	goneOnce  sync.Once
	closeOnce sync.Once
	cur       arrow.RecordBatch
	mu        sync.Mutex
	err       error
}

// NewStream makes a stream of batches of schema, holding up to buffer
// batches not yet read.
func NewStream(schema *arrow.Schema, buffer int) *Stream {
	s := &Stream{schema: schema, ch: make(chan arrow.RecordBatch, buffer), gone: make(chan struct{})}
	s.refs.Store(1)
	return s
}

// Send hands rec over to the reader, who releases it. It waits while the
// buffer is full, and fails with ctx's error, or ErrStreamGone when the
// reader released the stream; rec is released then.
func (s *Stream) Send(ctx context.Context, rec arrow.RecordBatch) error {
	select {
	case <-s.gone:
		rec.Release()
		return ErrStreamGone
	default:
	}
	select {
	case s.ch <- rec:
		return nil
	case <-ctx.Done():
		rec.Release()
		return ctx.Err()
	case <-s.gone:
		rec.Release()
		return ErrStreamGone
	}
}

// CloseSend ends the stream after the batches sent; a non-nil err is what
// Err reports, so that the reader fails rather than take a partial stream
// as whole. Only the first call counts.
func (s *Stream) CloseSend(err error) {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		close(s.ch)
	})
}

// Retain and Release count references; the last Release refuses further
// sends and releases what was not read.
func (s *Stream) Retain() { s.refs.Add(1) }

func (s *Stream) Release() {
	if s.refs.Add(-1) != 0 {
		return
	}
	s.goneOnce.Do(func() { close(s.gone) })
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
	// Senders see gone and stop; what is buffered goes now, the rest when
	// CloseSend closes the channel.
	go func() {
		for rec := range s.ch {
			rec.Release()
		}
	}()
}

func (s *Stream) Schema() *arrow.Schema { return s.schema }

// Next waits for the next batch; false at the end of the stream.
func (s *Stream) Next() bool {
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
	rec, ok := <-s.ch
	if !ok {
		return false
	}
	s.cur = rec
	return true
}

// RecordBatch is the batch Next made current, valid until the next Next.
func (s *Stream) RecordBatch() arrow.RecordBatch { return s.cur }

// Record is RecordBatch, for the interface.
func (s *Stream) Record() arrow.RecordBatch { return s.cur }

// Err is what CloseSend was given: nil when the stream is whole.
func (s *Stream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// ErrStreamGone is Send's error once the reader has released the stream.
var ErrStreamGone = errors.New("usage stream: the reader is gone")
