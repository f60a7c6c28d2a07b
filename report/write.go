package report

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// writeStream writes what write produces at path unless the file there
// holds exactly those bytes already; a download of hundreds of megabytes
// is compared as it is made, never held whole in memory.
func (s *Site) writeStream(path string, write func(io.Writer) error) error {
	f := &sameFile{path: path}
	defer f.abort()
	bw := streamWriters.Get().(*bufio.Writer)
	bw.Reset(f)
	defer func() { bw.Reset(nil); streamWriters.Put(bw) }()
	if err := write(bw); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	written, err := f.close()
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if written {
		s.written.Add(1)
	}
	return nil
}

// streamWriters and streamReaders are writeStream's buffers, reused: a
// build writes two thousand downloads, and a fresh quarter megabyte
// cleared for each was a tenth of what a build allocated.
var (
	streamWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 256<<10) }}
	streamReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 256<<10) }}
)

// sameFile compares what is written with the file at path while the two
// agree; at the first difference it starts a temporary file with the part
// that agreed and writes on into it. close renames the temporary file
// over path, or, when every byte agreed and the old file ends there too,
// leaves path alone.
type sameFile struct {
	path    string
	old     *os.File
	oldr    *bufio.Reader
	opened  bool
	matched int64 // bytes known to agree with the old file
	tmp     *os.File
	cmp     []byte
}

func (f *sameFile) Write(p []byte) (int, error) {
	if f.tmp != nil {
		return f.tmp.Write(p)
	}
	if !f.opened {
		f.openOld()
	}
	if f.old != nil {
		if cap(f.cmp) < len(p) {
			f.cmp = make([]byte, len(p))
		}
		n, _ := io.ReadFull(f.oldr, f.cmp[:len(p)])
		if n == len(p) && bytes.Equal(f.cmp[:n], p) {
			f.matched += int64(n)
			return len(p), nil
		}
	}
	if err := f.diverge(); err != nil {
		return 0, err
	}
	return f.tmp.Write(p)
}

// openOld opens the file at path, if there is one, to compare with what
// is written, through a pooled reader that abort gives back.
func (f *sameFile) openOld() {
	f.opened = true
	if old, err := os.Open(f.path); err == nil {
		f.old, f.oldr = old, streamReaders.Get().(*bufio.Reader)
		f.oldr.Reset(old)
	}
}

// diverge starts the temporary file with the bytes that agreed.
func (f *sameFile) diverge() error {
	tmp, err := createTemp(f.path)
	if err != nil {
		return err
	}
	f.tmp = tmp
	if f.matched > 0 {
		if _, err := io.Copy(tmp, io.NewSectionReader(f.old, 0, f.matched)); err != nil {
			return err
		}
	}
	return nil
}

// close finishes the file and says whether it was written.
func (f *sameFile) close() (bool, error) {
	if f.tmp == nil {
		if !f.opened {
			f.openOld() // nothing was written: an empty file
		}
		if f.old != nil {
			if _, err := f.oldr.ReadByte(); errors.Is(err, io.EOF) {
				return false, nil // the old file ends where the new one does
			}
		}
		if err := f.diverge(); err != nil {
			return false, err
		}
	}
	tmp := f.tmp
	f.tmp = nil
	defer os.Remove(tmp.Name())
	if err := renameTemp(tmp, f.path); err != nil {
		return false, err
	}
	return true, nil
}

// abort closes and removes what close did not finish.
func (f *sameFile) abort() {
	if f.old != nil {
		f.old.Close()
		f.oldr.Reset(nil)
		streamReaders.Put(f.oldr)
		f.old, f.oldr = nil, nil
	}
	if f.tmp != nil {
		f.tmp.Close()
		os.Remove(f.tmp.Name())
	}
}
