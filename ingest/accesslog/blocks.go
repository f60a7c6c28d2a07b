package accesslog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
)

// Read reads every line of r (named name in bad-line reports) and calls fn
// with each Event in the order of the lines (ev is reused: copy what you
// keep; its strings are immutable and may be kept).
//
// One goroutine reads r in blocks of whole lines, a worker per other CPU
// parses blocks, and the calling goroutine gets them back in order and calls fn:
// parsing and fn (say, a Counter) run side by side. Memory is a few blocks
// in flight, whatever the size of r. If fn fails, the Stats count the lines
// of the blocks delivered so far.
func (rd *Reader) Read(ctx context.Context, name string, r io.Reader, fn func(*Event) error) (Stats, error) {
	var st Stats
	if err := ctx.Err(); err != nil {
		return st, err
	}
	// The calling goroutine (fn: a Counter, say) needs a CPU of its own.
	workers := max(1, runtime.GOMAXPROCS(0)-1)
	for len(rd.parsers) < workers {
		rd.parsers = append(rd.parsers, rd.newParser())
	}
	inner, cancel := context.WithCancel(ctx)
	jobs, order := make(chan *block, workers), make(chan *block, 2*workers)
	free := make(chan *block, 3*workers+2)
	var wg sync.WaitGroup
	wg.Go(func() { rd.split(inner, r, free, jobs, order) })
	for _, p := range rd.parsers[:workers] {
		wg.Go(func() {
			for b := range jobs {
				p.parse(b)
				close(b.done)
			}
		})
	}
	// stop ends the goroutines; order is closed once the splitter is.
	stop := func() {
		cancel()
		for range order {
		}
		wg.Wait()
	}
	for b := range order {
		<-b.done
		if err := ctx.Err(); err != nil {
			stop()
			return st, err
		}
		base := st.Lines
		st.Lines += b.st.Lines
		st.Events += b.st.Events
		st.Robots += b.st.Robots
		st.Ignored += b.st.Ignored
		st.Bad += b.st.Bad
		for _, bl := range b.st.BadLines[:min(len(b.st.BadLines), MaxBadLines-min(MaxBadLines, len(st.BadLines)))] {
			st.BadLines = append(st.BadLines, BadLine{File: name, Line: base + bl.Line, Reason: bl.Reason})
		}
		for i := range b.events {
			if err := fn(&b.events[i]); err != nil {
				stop()
				return st, err
			}
		}
		if b.err != nil {
			stop()
			return st, fmt.Errorf("read %s: %w", name, b.err)
		}
		select {
		case free <- b:
		default:
		}
	}
	wg.Wait()
	cancel()
	// A cancelled ctx stops the splitter too, which may have ended order
	// before all of r was read.
	return st, ctx.Err()
}

// block is a run of whole lines, parsed by one worker.
type block struct {
	buf  []byte
	long bool  // instead of lines: one line too long for the buffer, dropped
	err  error // reading stopped after buf with this error
	done chan struct{}
	// The parse: events in line order, the stats with bad lines numbered
	// from 1 in the block.
	events []Event
	st     Stats
}

// defaultBlockSize is the size of a block: large enough that handing it
// over costs little against parsing its few thousand lines, small enough
// that the blocks in flight are a few MB.
const defaultBlockSize = 1 << 20

// split reads r into blocks of whole lines and sends each to jobs (for a
// worker) and to order (for the delivery, in sequence). A line longer than
// a block is sent as a long block, and its rest skipped.
func (rd *Reader) split(ctx context.Context, r io.Reader, free <-chan *block, jobs, order chan<- *block) {
	defer close(order)
	defer close(jobs)
	size := defaultBlockSize
	if rd.blockSize > 0 {
		size = max(rd.blockSize, maxLineBytes+1)
	}
	var carry []byte // the start of a line the last block ended in
	var spare *block // a block not sent, for the next
	eof, skip := false, false
	send := func(b *block) bool {
		b.done = make(chan struct{})
		for _, ch := range []chan<- *block{jobs, order} {
			select {
			case ch <- b:
			case <-ctx.Done():
				return false
			}
		}
		return true
	}
	for ctx.Err() == nil {
		b := spare
		if spare = nil; b == nil {
			select {
			case b = <-free:
			default:
				b = &block{buf: make([]byte, 0, size)}
			}
		}
		b.long, b.err = false, nil
		buf := append(b.buf[:0], carry...)[:size]
		n := len(carry)
		var rerr error
		for n < size && !eof && rerr == nil {
			var k int
			k, rerr = r.Read(buf[n:])
			n += k
			if errors.Is(rerr, io.EOF) {
				eof, rerr = true, nil
			}
		}
		if skip { // the rest of a long line, up to its newline
			if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
				carry, skip = append(carry[:0], buf[i+1:n]...), false
			}
			if rerr != nil {
				b.buf, b.err = buf[:0], rerr
				send(b)
				return
			}
			if skip && eof {
				return
			}
			spare = b
			continue
		}
		last := bytes.LastIndexByte(buf[:n], '\n')
		switch {
		case eof || rerr != nil:
			b.buf, b.err, carry = buf[:n], rerr, carry[:0]
			if n > 0 || rerr != nil {
				send(b)
			}
			return
		case last >= 0:
			b.buf = buf[:last+1]
			carry = append(carry[:0], buf[last+1:n]...)
		default:
			b.buf, b.long, carry, skip = buf[:0], true, carry[:0], true
		}
		if !send(b) {
			return
		}
	}
}
