package accesslog_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/bibliotek24/bibstat/ingest/accesslog"
	"github.com/bibliotek24/bibstat/ingest/accesslog/accesslogsim"
)

// TestReadStops: an error from fn, or a cancelled context, ends a Read of
// many blocks with that error, and the Reader reads the next log in full.
func TestReadStops(t *testing.T) {
	_, newReader := world(t)
	o := accesslogsim.Default()
	o.Sessions = 3000
	var log bytes.Buffer
	truth, err := accesslogsim.Generate(&log, o)
	if err != nil {
		t.Fatal(err)
	}
	rd := newReader()
	accesslog.SetBlockSize(rd, 1) // the smallest blocks: many of them
	stop := errors.New("enough")
	n := 0
	_, err = rd.Read(context.Background(), "a", bytes.NewReader(log.Bytes()), func(*accesslog.Event) error {
		if n++; n == 1000 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 1000 {
		t.Fatalf("fn's error: %v after %d events", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	_, err = rd.Read(ctx, "b", bytes.NewReader(log.Bytes()), func(*accesslog.Event) error {
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	st, err := rd.Read(context.Background(), "c", bytes.NewReader(log.Bytes()), func(*accesslog.Event) error { return nil })
	if err != nil || st.Lines != truth.Lines || st.Events != truth.Events {
		t.Fatalf("after stopping: %+v, %v; want %d lines, %d events", st, err, truth.Lines, truth.Events)
	}
}
