package counter

// The JSON reader's memory, kept from one document to the next: a harvest
// reads a small response every few milliseconds, and each one's reader,
// bytes and node slabs were most of what it allocated (its collections
// take the cores the hosts' turns wait for).

import "sync"

// Beyond these a document's scratch is left to the collector rather than
// pooled: a large report must not keep its memory after it is read.
const (
	maxPooledSlabs = 64      // of each kind: 4,096 nodes
	maxPooledData  = 1 << 20 // bytes of the document
)

// jsonScratch is a reader's reusable memory. Nothing in it outlives the
// read: tokens copy what they take from data, and no jnode leaves the
// reader (the Document holds strings and numbers only).
type jsonScratch struct {
	data []byte // the document, for the byte tokens

	nodes                         [][]jnode
	keys                          [][]string
	vals                          [][]*jnode
	usedNodes, usedKeys, usedVals int // slabs handed out in this read
}

// readerPool holds idle jsonReaders with their scratch.
var readerPool = sync.Pool{New: func() any { return new(jsonReader) }}

// recycle makes jr new but for its scratch, reset, and reports whether
// it is small enough to pool.
func (jr *jsonReader) recycle() bool {
	keep := jr.scratch.reset()
	*jr = jsonReader{scratch: jr.scratch}
	return keep
}

// nextSlab hands out the next of slabs, making one of size when all are
// in use.
func nextSlab[T any](slabs *[][]T, used *int, size int) []T {
	if *used == len(*slabs) {
		*slabs = append(*slabs, make([]T, size))
	}
	*used++
	return (*slabs)[*used-1]
}

// reset makes the scratch ready for another document, its slabs cleared
// so that they keep nothing of this one alive, and reports whether it is
// small enough to pool.
func (s *jsonScratch) reset() bool {
	for _, sl := range s.nodes[:s.usedNodes] {
		clear(sl)
	}
	for _, sl := range s.keys[:s.usedKeys] {
		clear(sl)
	}
	for _, sl := range s.vals[:s.usedVals] {
		clear(sl)
	}
	s.usedNodes, s.usedKeys, s.usedVals = 0, 0, 0
	s.data = s.data[:0]
	return len(s.nodes) <= maxPooledSlabs && len(s.keys) <= maxPooledSlabs && len(s.vals) <= maxPooledSlabs &&
		cap(s.data) <= maxPooledData
}
