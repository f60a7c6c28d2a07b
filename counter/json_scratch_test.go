package counter

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/bibliotek24/bibstat/schemas"
)

// readWith reads in with jr's scratch as readJSON does, through both
// token paths, and returns all it shows: the Document, the rows, the error.
func readWith(jr *jsonReader, in []byte, opts Options) string {
	opts.defaults()
	var rows []string
	opts.Rows = func(r *schemas.Row) error {
		rows = append(rows, fmt.Sprintf("%#v", *r))
		return nil
	}
	doc := &Document{}
	err := jr.read(context.Background(), bytes.NewReader(in), opts, nil, doc)
	return fmt.Sprintf("%+v\n%q\n%v", doc, rows, err)
}

// TestScratchReusedReadsAsNew: a document read with a scratch that an
// earlier document used (damaged, deeply nested, with many nodes or
// held-back items) reads to the same Document, rows and error as with a
// new one, for every fixture and sample and for random COUNTER-like JSON:
// nothing of one document shows in the next.
func TestScratchReusedReadsAsNew(t *testing.T) {
	var docs [][]byte
	for _, dir := range []string{fixtures, samplesDir} {
		names, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, name := range names {
			if b, err := os.ReadFile(name); err == nil {
				docs = append(docs, b)
			}
		}
	}
	if len(docs) < 10 {
		t.Fatalf("only %d JSON fixtures found", len(docs))
	}
	docs = append(docs, syntheticPR(40), syntheticTRJSON(200))
	rng := rand.New(rand.NewPCG(8, 21))
	for range 1500 {
		d := randomJSONDoc(rng)
		if rng.IntN(4) == 0 {
			d = d[:rng.IntN(len(d)+1)]
		}
		docs = append(docs, d)
	}
	used := &jsonReader{}
	for i, in := range docs {
		for _, stream := range []bool{false, true} {
			opts := Options{Name: "doc", BatchRows: 1 + i%4, MaxDepth: 6 + i%30, streamJSON: stream}
			before := docs[rng.IntN(len(docs))]
			readWith(used, before, opts)
			used.recycle()
			got := readWith(used, in, opts)
			used.recycle()
			if want := readWith(&jsonReader{}, in, opts); got != want {
				t.Fatalf("document %d %q after %q (stream %v):\nreused: %s\nnew:    %s", i, in, before, stream, got, want)
			}
		}
	}
}

// TestScratchNotPooledWhenLarge: a large report's scratch is not kept.
func TestScratchNotPooledWhenLarge(t *testing.T) {
	jr := &jsonReader{}
	readWith(jr, syntheticTRJSON(3000), Options{})
	if jr.recycle() {
		t.Fatalf("scratch of %d node slabs and %d bytes would be pooled", len(jr.scratch.nodes), cap(jr.scratch.data))
	}
	small := &jsonReader{}
	readWith(small, syntheticPR(5), Options{})
	if !small.recycle() {
		t.Fatal("a small document's scratch would not be pooled")
	}
	if !reflect.DeepEqual(small.scratch.data, []byte{}) && len(small.scratch.data) != 0 {
		t.Fatal("reset keeps the document's bytes")
	}
}
