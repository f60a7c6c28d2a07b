package upload

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/schemas"
)

// unitID is the grain of supersession for uploads.
type unitID struct {
	report string
	lib    bibstat.LibraryID
	month  bibstat.Month
}

func (u unitID) dir(vendor string) string {
	return bibstat.UploadUnitPrefix(vendor, u.report, u.lib, u.month)
}

// unitSet gathers a file's rows per unit.
type unitSet struct {
	dry    bool
	max    int
	byID   map[unitID]*unitSink
	rows   int64
	totals map[bibstat.LibraryID]map[string]int64
	row    schemas.Row
}

type unitSink struct {
	bt   *schemas.Batcher
	pw   *schemas.ParquetWriter
	buf  bytes.Buffer
	rows int64
	tot  map[string]int64 // metric → count, for the dry run's old → new
}

func newUnits(dry bool, max int) *unitSet {
	return &unitSet{dry: dry, max: max, byID: map[unitID]*unitSink{}, totals: map[bibstat.LibraryID]map[string]int64{}}
}

func (u *unitSet) get(id unitID) (*unitSink, error) {
	if s, ok := u.byID[id]; ok {
		return s, nil
	}
	if len(u.byID) >= u.max {
		return nil, fmt.Errorf("the file spans more than %d (library, month) units", u.max)
	}
	s := &unitSink{}
	if !u.dry {
		pw, err := schemas.NewParquetWriter(&s.buf)
		if err != nil {
			return nil, err
		}
		s.pw = pw
		s.bt = schemas.NewBatcher(memory.NewGoAllocator(), 4096, pw.Write)
	}
	u.byID[id] = s
	return s, nil
}

func (u *unitSet) add(s *unitSink, lib bibstat.LibraryID, r *schemas.Row) error {
	u.rows++
	s.rows++
	t := u.totals[lib]
	if t == nil {
		t = map[string]int64{}
		u.totals[lib] = t
	}
	addCount(t, r.MetricType, r.Count)
	if s.tot == nil {
		s.tot = map[string]int64{}
	}
	addCount(s.tot, r.MetricType, r.Count)
	if s.bt == nil {
		return nil
	}
	return s.bt.Add(r)
}

// addCount adds n to m[key], copying a key it has not seen: a Row's text
// may point into a record batch whose memory is reused once the batch is
// released, and a map keeps its keys' bytes, not a copy.
func addCount(m map[string]int64, key string, n int64) {
	if _, ok := m[key]; !ok {
		key = strings.Clone(key)
	}
	m[key] += n
}

// addRecord routes a COUNTER batch's rows by month; the report and
// library are set once the header is known (setCounter).
func (u *unitSet) addRecord(rec arrow.RecordBatch) error {
	for i := 0; i < int(rec.NumRows()); i++ {
		u.row.SetFrom(rec, i)
		s, err := u.get(unitID{month: bibstat.MonthOf(u.row.Month)})
		if err != nil {
			return err
		}
		if err := u.add(s, "", &u.row); err != nil {
			return err
		}
	}
	return nil
}

func (u *unitSet) setCounter(report string, lib bibstat.LibraryID) {
	old := u.byID
	u.byID = make(map[unitID]*unitSink, len(old))
	for id, s := range old {
		id.report, id.lib = report, lib
		u.byID[id] = s
	}
	if t, ok := u.totals[""]; ok {
		delete(u.totals, "")
		u.totals[lib] = t
	}
}

func (u *unitSet) reset() {
	u.release()
	*u = *newUnits(u.dry, u.max)
}

func (u *unitSet) release() {
	for _, s := range u.byID {
		if s.bt != nil {
			s.bt.Release()
			s.bt = nil
		}
	}
}

func (u *unitSet) ids() []unitID {
	out := make([]unitID, 0, len(u.byID))
	for id := range u.byID {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.report != b.report {
			return a.report < b.report
		}
		if a.lib != b.lib {
			return a.lib < b.lib
		}
		return a.month.Before(b.month)
	})
	return out
}

// written are the units a file of status st writes: all of them, but for a
// partial file only those with rows: a unit of it without rows may be
// empty because its cells were rejected, which is no statement of zero.
func (u *unitSet) written(st Status) []unitID {
	var out []unitID
	for _, id := range u.ids() {
		if st != StatusPartial || u.byID[id].rows > 0 {
			out = append(out, id)
		}
	}
	return out
}

func (u *unitSet) months() []bibstat.Month {
	seen := map[bibstat.Month]bool{}
	var out []bibstat.Month
	for id := range u.byID {
		if !seen[id.month] {
			seen[id.month] = true
			out = append(out, id.month)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// finish flushes the unit's rows and returns its Parquet bytes.
func (s *unitSink) finish() ([]byte, error) {
	if err := s.bt.Flush(); err != nil {
		return nil, err
	}
	if err := s.pw.Close(); err != nil {
		return nil, err
	}
	return s.buf.Bytes(), nil
}
