package report

import (
	"context"
	"fmt"
	"time"
)

// batch is some rows of a query's result, column by column, each column of
// the kind the caller named: 's' text, 'i' a whole number (BIGINT), 'f' a
// DOUBLE, 'd' a DATE. A column of another kind, or a NULL, is an error,
// never an empty or zero value.
type batch struct {
	n      int
	str    [][]string
	int    [][]int64
	float  [][]float64
	date   [][]time.Time
	intern map[string]string // the query's distinct texts, each held once
}

func newBatch(kinds string) *batch {
	b := &batch{str: make([][]string, len(kinds)), int: make([][]int64, len(kinds)),
		float: make([][]float64, len(kinds)), date: make([][]time.Time, len(kinds)), intern: map[string]string{}}
	return b
}

// reset empties the batch for n more rows, keeping its room.
func (b *batch) reset(kinds string, n int) {
	b.n = n
	for c, k := range []byte(kinds) {
		switch k {
		case 's':
			b.str[c] = grow(b.str[c], n)
		case 'i':
			b.int[c] = grow(b.int[c], n)
		case 'f':
			b.float[c] = grow(b.float[c], n)
		case 'd':
			b.date[c] = grow(b.date[c], n)
		}
	}
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// text is v held once per query: the prefetch's hundreds of thousands of
// rows name a few hundred libraries, platforms and metrics, and one copy
// of each is less to allocate and for the collector to scan. v may be a
// view of memory the caller lets go; the text kept is a copy.
func (b *batch) text(v string) string {
	if t, ok := b.intern[v]; ok {
		return t
	}
	t := string([]byte(v))
	b.intern[t] = t
	return t
}

// checkKinds refuses kinds the batches cannot hold.
func checkKinds(kinds string) error {
	for _, k := range []byte(kinds) {
		if k != 's' && k != 'i' && k != 'f' && k != 'd' {
			return fmt.Errorf("report: column kind %q", k)
		}
	}
	return nil
}

// byScope reads rows of a scope id and the columns kinds (after the id)
// into lists per scope, made by row from the batch's i-th row. The rows
// come ordered by scope: they go into chunks, and each scope's list is its
// part of a chunk (its capacity capped, so that an append copies), instead
// of hundreds of lists each grown by doubling. A scope's rows that come
// apart are appended to its list all the same.
func byScope[T any](ctx context.Context, s *Site, query, kinds string, row func(b *batch, i int) T) (map[string][]T, error) {
	const chunk = 1 << 14
	out := map[string][]T{}
	var all []T
	id, start := "", 0
	end := func() {
		switch part := all[start:len(all):len(all)]; {
		case len(part) == 0:
		case out[id] == nil:
			out[id] = part
		default:
			out[id] = append(out[id], part...)
		}
	}
	err := s.queryBatches(ctx, query, "s"+kinds, func(b *batch) {
		ids := b.str[0]
		for i := range b.n {
			if ids[i] != id {
				end()
				id, start = ids[i], len(all)
			}
			if len(all) == cap(all) { // the scope's rows so far move to the next chunk
				next := append(make([]T, 0, max(chunk, 2*(len(all)-start))), all[start:]...)
				all, start = next, 0
			}
			all = append(all, row(b, i))
		}
	})
	end()
	return out, err
}
