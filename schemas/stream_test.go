package schemas

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// batchOf is n rows of source key key, as one batch.
func batchOf(t *testing.T, key string, n int) arrow.RecordBatch {
	t.Helper()
	var out arrow.RecordBatch
	bt := NewBatcher(nil, 0, func(rec arrow.RecordBatch) error { out = rec; return nil })
	defer bt.Release()
	for i := range n {
		r := Row{SourceKey: key, Month: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Count: int64(i + 1)}
		if err := bt.Add(&r); err != nil {
			t.Fatal(err)
		}
	}
	if err := bt.Flush(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestStreamReadsWhatWasSentThenTheSendersError: the reader gets every
// batch in order, and a stream closed with an error ends in it, so a
// partial stream is never taken for whole.
func TestStreamReadsWhatWasSentThenTheSendersError(t *testing.T) {
	s := NewStream(Usage, 1)
	defer s.Release()
	broken := errors.New("the store failed")
	go func() {
		for i := range 3 {
			if err := s.Send(context.Background(), batchOf(t, "k", i+1)); err != nil {
				t.Error(err)
			}
		}
		s.CloseSend(broken)
	}()
	var rows []int64
	for s.Next() {
		rows = append(rows, s.RecordBatch().NumRows())
	}
	if len(rows) != 3 || rows[0] != 1 || rows[2] != 3 {
		t.Errorf("read batches of %v rows, want 1, 2, 3", rows)
	}
	if !errors.Is(s.Err(), broken) {
		t.Errorf("Err %v, want the sender's", s.Err())
	}
}

// TestStreamRefusesSendsOnceReleased: a reader that gives up (DuckDB's
// statement failed) does not leave senders waiting for ever.
func TestStreamRefusesSendsOnceReleased(t *testing.T) {
	s := NewStream(Usage, 0)
	s.Release()
	if err := s.Send(context.Background(), batchOf(t, "k", 1)); !errors.Is(err, ErrStreamGone) {
		t.Errorf("Send after Release: %v, want ErrStreamGone", err)
	}
	s.CloseSend(nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s2 := NewStream(Usage, 0)
	defer s2.Release()
	if err := s2.Send(ctx, batchOf(t, "k", 1)); !errors.Is(err, context.Canceled) {
		t.Errorf("Send with nobody reading and ctx done: %v, want context.Canceled", err)
	}
}
