package ingest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bibliotek24/bibstat/counter"
)

// TestSniffsJSONReadsAsBefore: where classify reads a body with the least
// buffer (counter.JSONInLeastBuffer), counter.Read gives the Document and error it gives
// with the buffer classify used before (the body's size, at least 4 KiB),
// for every fixture and vendor file behind leading space of every length
// around the buffer's, a BOM, or a space the sniff does not skip; bodies
// the sniff could take for something else are read as before.
func TestSniffsJSONReadsAsBefore(t *testing.T) {
	ctx := context.Background()
	var files []string
	for _, dir := range []string{"../testdata/counter", "../testdata/vendor-files", "../testdata/upload"} {
		names, _ := filepath.Glob(filepath.Join(dir, "*"))
		files = append(files, names...)
	}
	var prefixes []string
	for _, n := range []int{0, 1, 62, 63, 64, 65, 200, 5000} {
		prefixes = append(prefixes, strings.Repeat(" \t\r\n", n)[:n])
	}
	prefixes = append(prefixes, "\ufeff", "\v", " \u00a0", `"`, "x")
	sniffed, old := 0, 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range prefixes {
			for _, body := range [][]byte{append([]byte(p), data...), append([]byte(p), data[:len(data)/2]...)} {
				if !counter.JSONInLeastBuffer(body) {
					old++
					continue
				}
				sniffed++
				before := min(max(len(body)+1, 4096), counter.DefaultMaxLineBytes)
				a, aerr := counter.Read(ctx, bytes.NewReader(body), counter.Options{Name: "k", MaxLineBytes: before}, nil)
				b, berr := counter.Read(ctx, bytes.NewReader(body), counter.Options{Name: "k", MaxLineBytes: counter.MinLineBytes}, nil)
				if fmt.Sprint(aerr) != fmt.Sprint(berr) || !reflect.DeepEqual(a, b) {
					t.Fatalf("%s behind %q: read with %d bytes of buffer: %+v, %v; with %d: %+v, %v",
						filepath.Base(file), p, before, a, aerr, counter.MinLineBytes, b, berr)
				}
			}
		}
	}
	if sniffed < 100 || old < 100 {
		t.Fatalf("%d bodies sniffed as JSON, %d not: the cases do not cover both", sniffed, old)
	}
}
