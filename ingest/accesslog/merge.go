package accesslog

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// recountWindow is the window a month is recounted in: its events objects
// are merged by time, and each is in its log's order, so only a log's own
// disorder (a proxy writes a line when a request ends) has to fit in it.
const recountWindow = time.Hour

// countMonth counts the events objects keys into a new Counter: merged by
// time with recountWindow, so memory is bounded by the sessions open in
// an hour; if a log was too far out of order for that (ErrLate), again
// with no window, which holds the month's clicks but counts them right.
func (in *Ingester) countMonth(ctx context.Context, keys []string) (map[UnitKey]Counts, error) {
	c := NewCounter(recountWindow)
	err := in.mergeEvents(ctx, keys, c.Add)
	if errors.Is(err, ErrLate) {
		in.log().Warn("access-log events out of order by more than the window; recounting the month in memory", "window", recountWindow)
		c = NewCounter(0)
		err = in.mergeEvents(ctx, keys, c.Add)
	}
	if err != nil {
		return nil, err
	}
	return c.Finish(), nil
}

// mergeEvents calls fn with the events of every object in keys, merged
// by time (a k-way merge: each object is read once, streaming).
func (in *Ingester) mergeEvents(ctx context.Context, keys []string, fn func(*Event) error) error {
	var h eventHeap
	for _, k := range keys {
		rc, err := in.Store.Get(ctx, k)
		if err != nil {
			return fmt.Errorf("read access-log events %s: %w", k, err)
		}
		defer rc.Close()
		es, err := newEventScanner(rc)
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		src := &mergeSource{key: k, rc: rc, es: es}
		if ok, err := src.advance(); err != nil {
			return err
		} else if ok {
			h = append(h, src)
		}
	}
	heap.Init(&h)
	for n := 0; len(h) > 0; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		src := h[0]
		if err := fn(&src.ev); err != nil {
			return err
		}
		ok, err := src.advance()
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	return nil
}

// mergeSource is one events object being merged; ev is its next event,
// copied out of the scanner (whose strings are its own, per line).
type mergeSource struct {
	key string
	rc  io.Closer
	es  *eventScanner
	ev  Event
}

func (s *mergeSource) advance() (bool, error) {
	ev, err := s.es.next()
	if err != nil {
		return false, fmt.Errorf("%s: %w", s.key, err)
	}
	if ev == nil {
		return false, nil
	}
	s.ev = *ev
	return true, nil
}

type eventHeap []*mergeSource

func (h eventHeap) Len() int           { return len(h) }
func (h eventHeap) Less(i, j int) bool { return h[i].ev.Time.Before(h[j].ev.Time) }
func (h eventHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)        { *h = append(*h, x.(*mergeSource)) }
func (h *eventHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
