package store

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"
)

// DefaultS3Timeout is S3Config.Timeout's default: a frozen server is
// known within it, well inside the 30 s an operator waits for a harvest to
// say something, and two attempts fit in it.
const DefaultS3Timeout = 25 * time.Second

// minUploadRate is the slowest upload taken for a live server: a body
// gets a second per this many bytes on top of the timeout.
const minUploadRate = 1 << 20

// errNoAnswer is the cause of an operation's deadline: the server did
// not answer in time, so the store is unavailable (fail wraps both).
var errNoAnswer = errors.New("the server did not answer in time")

// deadline bounds an operation that sends size bytes, all its attempts
// included. The caller's own cancellation stays the caller's: only the
// deadline's expiry has errNoAnswer as its cause.
func (s *S3) deadline(ctx context.Context, size int64) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, s.timeout+time.Duration(size/minUploadRate)*time.Second, errNoAnswer)
}

// stallWatch ends a download's context when the server goes silent: for
// the request until its headers, then during each read, but never while
// the reader is busy elsewhere, so a slow consumer is not taken for a
// frozen server.
type stallWatch struct {
	timer  *time.Timer
	cancel context.CancelCauseFunc
	d      time.Duration
	once   sync.Once
}

// watchdog returns a context that ends with errNoAnswer when the server
// says nothing for s.timeout, watching from now.
func (s *S3) watchdog(ctx context.Context) (context.Context, *stallWatch) {
	ctx, cancel := context.WithCancelCause(ctx)
	w := &stallWatch{cancel: cancel, d: s.timeout}
	w.timer = time.AfterFunc(w.d, func() { cancel(errNoAnswer) })
	return ctx, w
}

func (w *stallWatch) pause()  { w.timer.Stop() }
func (w *stallWatch) resume() { w.timer.Reset(w.d) }
func (w *stallWatch) close() {
	w.once.Do(func() {
		w.timer.Stop()
		w.cancel(nil)
	})
}

// s3Body classifies errors that happen while the object streams in, so a
// server that dies or goes silent mid-read also reports
// bibstat.ErrStoreUnavailable.
type s3Body struct {
	io.ReadCloser
	ctx     context.Context
	s       *S3
	key     string
	stalled *stallWatch
}

func (b *s3Body) Read(p []byte) (int, error) {
	b.stalled.resume()
	n, err := b.ReadCloser.Read(p)
	b.stalled.pause()
	if err != nil && err != io.EOF {
		err = b.s.fail(b.ctx, "get", b.key, err)
	}
	return n, err
}

func (b *s3Body) Close() error {
	err := b.ReadCloser.Close()
	b.stalled.close()
	return err
}
