package report

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"maps"
	"math"
	"path/filepath"
	"slices"
)

// digester feeds a digest with length-prefixed texts and fixed-width
// numbers, so that no two different inputs run together into one.
type digester struct {
	h hash.Hash
	b []byte
}

func newDigester(build []byte) *digester {
	d := &digester{h: sha256.New(), b: make([]byte, 0, 8<<10)}
	d.h.Write(build)
	return d
}

func (d *digester) flush() {
	if len(d.b) > 7<<10 {
		d.h.Write(d.b)
		d.b = d.b[:0]
	}
}

func (d *digester) str(s string) {
	d.flush()
	d.b = append(binary.AppendUvarint(d.b, uint64(len(s))), s...)
}

func (d *digester) int(n int64) { d.b = binary.AppendVarint(d.b, n) }

func (d *digester) float(f float64) { d.b = binary.LittleEndian.AppendUint64(d.b, math.Float64bits(f)) }

func (d *digester) usage(r usageRow) {
	d.str(r.Platform)
	d.str(r.Release)
	d.str(r.Metric)
	d.int(r.Month.UnixNano())
	d.int(r.Count)
	d.float(r.Pooled)
	d.float(r.Total)
}

func (d *digester) sum() string {
	d.h.Write(d.b)
	d.b = d.b[:0]
	return hex.EncodeToString(d.h.Sum(nil))
}

// pageInputs is what a usage page is made from beyond its downloads'
// inputs (whose digest it takes): a rebuild that finds the digest of all
// of them recorded, and the page as it left it, does not make the page
// again, since making every page to find it unchanged was half a second
// build.
type pageInputs struct {
	rel, tpl  string
	p         *page // its title, intro, root and stamp, before fillUsage
	downloads string
	rows      []usageRow   // the scope's usage, as the page's tables read it
	libs      []libraryRow // the scope's libraries
	top       [][3]string
	links     []*table // the comparisons' links
	nation    bool     // the nation's page: the ledger's units of no library count too
}

// pageDigest is the digest of a page's inputs; the words, the platforms'
// names and the program are in the record's digest, and the usage of the
// scope's libraries in the downloads' digest.
func (s *Site) pageDigest(in pageInputs) string {
	d := newDigester(s.record.digest)
	for _, v := range []string{in.rel, in.tpl, in.p.Title, in.p.Root, in.p.Intro, in.p.Generated, in.downloads} {
		d.str(v)
	}
	d.int(int64(len(in.rows)))
	for _, r := range in.rows {
		d.usage(r)
	}
	d.int(int64(len(in.libs)))
	in2 := map[string]bool{}
	for _, l := range in.libs {
		in2[l.ID] = true
		d.str(fmt.Sprintf("%#v", l))
		pops := s.libPop[l.ID]
		d.int(int64(len(pops)))
		for _, y := range slices.Sorted(maps.Keys(pops)) { // in order: a map's would change the digest, not the page
			d.int(int64(y))
			d.int(pops[y])
		}
	}
	d.int(int64(len(in.top)))
	for _, t := range in.top {
		d.str(t[0])
		d.str(t[1])
		d.str(t[2])
	}
	for _, t := range in.links {
		d.str(fmt.Sprintf("%#v", *t))
	}
	d.int(int64(boolIndex(s.Harvests == nil)))
	for _, h := range s.Harvests {
		if in2[h.Library] || (in.nation && h.Library == "") {
			d.str(h.Platform)
			d.str(h.Library)
			d.str(h.Month.String())
			d.str(string(h.State))
			d.int(h.At.UnixNano())
		}
	}
	return d.sum()
}

// pageUnchanged says whether the page at rel was made from inputs of this
// digest and is still as that build left it; the build then counts it
// without making it.
func (s *Site) pageUnchanged(rel, digest string) bool {
	dir, name := filepath.Split(filepath.Join(s.Out, filepath.FromSlash(rel)))
	return s.record.unchanged("page:"+rel, digest, dir, []string{name})
}

// pageMade records the page at rel as this build left it.
func (s *Site) pageMade(rel, digest string) error {
	dir, name := filepath.Split(filepath.Join(s.Out, filepath.FromSlash(rel)))
	return s.record.made("page:"+rel, digest, dir, []string{name})
}
