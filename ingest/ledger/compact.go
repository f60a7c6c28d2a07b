package ledger

import (
	"math"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
)

// entrySet holds the replayed state compactly: a national ledger is
// 135,000 entries whose strings (platforms, credentials, libraries,
// reports, months, states, fingerprints) are a few thousand distinct
// ones, held once here and named by number in each entry; only the raw
// key's harvest time and an error are the entry's own. An Entry of its own
// strings and times took 370 bytes and a pointer in the map; a slot takes
// about a quarter of that.
type entrySet struct {
	names names
	locs  []*time.Location // the times' zones, by number; 0 is UTC
	slots map[slotKey]slot
}

// slotKey is a unit: the interned platform, credential and report, and the month.
type slotKey struct {
	platform, credential, report uint32
	month                        int32 // Year*12 + Mon
}

type slot struct {
	library, month, state, credFP uint32
	attempts, code, httpStatus    int32
	nextLoc, updLoc               uint8 // beside the numbers: no padding of their own
	rawWhole                      bool
	// lastError is the entry's own: errors name their unit, and interned
	// they would outlive the entries that had them.
	lastError string
	// rawKey is the key's part after the unit's prefix (the harvest time
	// and extension), or the whole key (rawWhole) when it lies outside it.
	rawKey    string
	next, upd int64 // Unix nanoseconds; noTime for the zero time
}

// noTime stands for the zero time, whose Unix nanoseconds do not fit an int64.
const noTime = math.MinInt64

func newEntrySet() *entrySet {
	return &entrySet{names: names{ids: map[string]uint32{"": 0}, strs: []string{""}}, locs: []*time.Location{time.UTC},
		slots: map[slotKey]slot{}}
}

func (s *entrySet) len() int { return len(s.slots) }

// key is u's slot key; ok is false when one of its strings was never
// stored, so no entry can have it.
func (s *entrySet) key(u bibstat.Unit) (k slotKey, ok bool) {
	p, ok1 := s.names.lookup(u.Platform)
	c, ok2 := s.names.lookup(u.Credential)
	r, ok3 := s.names.lookup(string(u.Report))
	return slotKey{platform: p, credential: c, report: r, month: int32(u.Month.Year*12 + int(u.Month.Mon))}, ok1 && ok2 && ok3
}

func (s *entrySet) get(u bibstat.Unit) (Entry, bool) {
	k, ok := s.key(u)
	if !ok {
		return Entry{}, false
	}
	sl, ok := s.slots[k]
	if !ok {
		return Entry{}, false
	}
	var e Entry
	s.fill(&e, k, &sl)
	return e, true
}

// put stores e as the state of its unit.
func (s *entrySet) put(e *Entry) {
	u := e.Unit()
	n := &s.names
	k := slotKey{platform: n.id(u.Platform), credential: n.id(u.Credential), report: n.id(string(u.Report)),
		month: int32(u.Month.Year*12 + int(u.Month.Mon))}
	sl := slot{library: n.id(string(e.Library)), month: n.id(e.Month), state: n.id(string(e.State)),
		lastError: strings.Clone(e.LastError), credFP: n.id(e.CredFP),
		attempts: int32(e.Attempts), code: int32(e.Code), httpStatus: int32(e.HTTPStatus)}
	sl.rawKey, sl.rawWhole = e.RawKey, true
	if rest, ok := strings.CutPrefix(e.RawKey, u.UnitPrefix()); ok {
		sl.rawKey, sl.rawWhole = strings.Clone(rest), false // not a slice pinning the whole key
	}
	sl.next, sl.nextLoc = s.stamp(e.NextAttempt)
	sl.upd, sl.updLoc = s.stamp(e.UpdatedAt)
	s.slots[k] = sl
}

// fill sets e from the slot of unit k.
func (s *entrySet) fill(e *Entry, k slotKey, sl *slot) {
	n := &s.names
	*e = Entry{Platform: n.str(k.platform), Credential: n.str(k.credential), Library: bibstat.LibraryID(n.str(sl.library)),
		Report: bibstat.ReportID(n.str(k.report)), Month: n.str(sl.month), State: bibstat.State(n.str(sl.state)),
		Attempts: int(sl.attempts), LastError: sl.lastError, Code: int(sl.code), HTTPStatus: int(sl.httpStatus),
		CredFP: n.str(sl.credFP), RawKey: sl.rawKey,
		NextAttempt: s.time(sl.next, sl.nextLoc), UpdatedAt: s.time(sl.upd, sl.updLoc)}
	if !sl.rawWhole && sl.rawKey != "" {
		e.RawKey = e.Unit().UnitPrefix() + sl.rawKey
	}
}

// each calls fn for every entry; e is reused, valid only during fn.
func (s *entrySet) each(fn func(e *Entry)) {
	var e Entry
	for k, sl := range s.slots {
		s.fill(&e, k, &sl)
		fn(&e)
	}
}

// stamp is t as Unix nanoseconds and its zone's number; the monotonic
// reading goes, as it does in the journal.
func (s *entrySet) stamp(t time.Time) (int64, uint8) {
	if t.IsZero() {
		return noTime, 0
	}
	loc := t.Location()
	for i, l := range s.locs {
		if l == loc {
			return t.UnixNano(), uint8(i)
		}
	}
	if len(s.locs) == math.MaxUint8+1 {
		return t.UnixNano(), 0 // more zones than any journal has: the instant stays, in UTC
	}
	s.locs = append(s.locs, loc)
	return t.UnixNano(), uint8(len(s.locs) - 1)
}

func (s *entrySet) time(ns int64, loc uint8) time.Time {
	if ns == noTime {
		return time.Time{}
	}
	return time.Unix(0, ns).In(s.locs[loc])
}

// names interns strings: each distinct one is held once and named by its
// number; 0 is "".
type names struct {
	ids  map[string]uint32
	strs []string
}

func (n *names) id(str string) uint32 {
	if id, ok := n.ids[str]; ok {
		return id
	}
	str = strings.Clone(str) // not a slice pinning a larger string (a journal line, a URL)
	id := uint32(len(n.strs))
	n.ids[str] = id
	n.strs = append(n.strs, str)
	return id
}

func (n *names) lookup(str string) (uint32, bool) {
	id, ok := n.ids[str]
	return id, ok
}

func (n *names) str(id uint32) string { return n.strs[id] }
