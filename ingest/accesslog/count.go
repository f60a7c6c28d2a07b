package accesslog

import (
	"cmp"
	"errors"
	"slices"
	"time"

	"github.com/bibliotek24/bibstat"
)

// The metrics an access log yields (CoP 5.1 Table 3.r–3.t, PR).
const (
	SearchesPlatform                = "Searches_Platform"
	TotalItemInvestigations         = "Total_Item_Investigations"
	UniqueItemInvestigations        = "Unique_Item_Investigations"
	UniqueTitleInvestigations       = "Unique_Title_Investigations"
	TotalItemRequests               = "Total_Item_Requests"
	UniqueItemRequests              = "Unique_Item_Requests"
	UniqueTitleRequests             = "Unique_Title_Requests"
	nMetrics                        = 7
	doubleClick               int64 = 30 // seconds (CoP 5.1 7.2)
)

// Metrics lists the metrics in the order Counts holds them.
var Metrics = [nMetrics]string{SearchesPlatform, TotalItemInvestigations, UniqueItemInvestigations,
	UniqueTitleInvestigations, TotalItemRequests, UniqueItemRequests, UniqueTitleRequests}

// Counts is one unit's usage, indexed like Metrics.
type Counts [nMetrics]int64

// Get returns the count of metric m (0 for a metric not counted here).
func (c *Counts) Get(m string) int64 {
	if i := slices.Index(Metrics[:], m); i >= 0 {
		return c[i]
	}
	return 0
}

// UnitKey names one access-log unit.
type UnitKey struct {
	Platform string
	Library  bibstat.LibraryID
	Month    bibstat.Month
}

// ErrLate says an event came later than the Counter's window allows: its
// double clicks and sessions were already closed, so it cannot be counted
// right, and is not counted at all.
var ErrLate = errors.New("older than the reorder window")

// Counter applies COUNTER's processing rules to Events and totals them per
// unit. With Window 0 it holds every click until Finish, so the order of
// events does not matter at all; with a Window it decides a click once
// events are Window and 30 s past it (no later event can double it then),
// and forgets sessions as they close, so memory is bounded by the sessions
// open in that window. An event older than the window is ErrLate; without
// one, the counts are the same as with Window 0.
// Not safe for concurrent use.
//
// The undecided clicks are kept by who made them (a person: the user, or
// the session without one): a person's few clicks in a short slice, so an
// event costs one small map lookup, and a person's slot is reused. The
// clicks it decides to count are added up per session and unit by its
// tally, beside it on a goroutine of the tally's own.
type Counter struct {
	Window time.Duration

	people    map[uint64]int32 // the slot of a person with undecided clicks, by sums.who
	collided  map[whoKey]int32 // the few whose sums.who another in people has
	slots     []person
	free      []int32 // slots not in use
	keys      int     // the distinct keys of undecided clicks
	sessions  map[sessionKey]*session
	ends      map[int64][]*session // open sessions by end
	watermark int64                // newest event time seen, Unix seconds
	flushedAt int64
	// queue holds each click's person in arrival order, so that a windowed
	// flush visits only people with clicks old enough to decide.
	queue []queued
	head  int
	tally tally
}

type whoKey struct {
	who       string
	bySession bool // who is the session: the event had no user
}

// queued is a click's person, and the slot's generation then: a slot
// emptied and reused since is another person's.
type queued struct {
	slot int32
	gen  uint32
	t    int64
}

// person is one user's (or session's) undecided clicks, by key.
type person struct {
	who whoKey
	sum uint64 // sums.who
	gen uint32
	// keys holds the keys with undecided clicks; past its length, the
	// entries of decided keys, whose slices are reused.
	keys      []keyClicks
	hashes    []uint64          // keys[i].k.h: a scan reads these few cache lines
	index     map[itemKey]int32 // keys by key, once a person holds many
	last      *session          // the session of the last click, likely the next's
	decidedAt int64             // the horizon it was last decided at
}

// itemKey is, with the person, what a double click repeats: the same item
// of the same kind.
type itemKey struct {
	platform, item string
	kind           byte   // kindCode
	h              uint64 // a hash of the rest, so that unequal keys differ fast
}

// keyClicks is one key's undecided clicks, and the title of the first: a
// key has one title.
type keyClicks struct {
	k     itemKey
	title string
	th    uint64 // the title's hash
	cs    []stamp
}

type stamp struct {
	t int64
	s *session
}

// manyKeys is how many keys a person holds before an index of them.
const manyKeys = 32

type sessionKey struct {
	who       string
	lib       bibstat.LibraryID
	slot      int64 // the start of its date or hour, Unix seconds
	bySession bool
}

// session holds what a session has counted once: its unique items and
// titles, and its units' counts by platform.
type session struct {
	key   sessionKey
	month bibstat.Month
	end   int64 // Unix seconds after which no event belongs to it
	gone  bool  // forgotten: no event can join it
	open  int32 // its undecided clicks
	// The rest is the tally's (see tally), apart from the Counter.
	seen  []seenKey
	seenM map[seenKey]struct{} // seen, once too many for a slice
	units []sessionUnit
}

type sessionUnit struct {
	platform string
	n        *Counts
}

type seenKey struct {
	platform, value string
	what, kind      byte   // 'i' item or 't' title; kindCode
	h               uint64 // a hash of value, as itemKey's
}

// maxSeenSlice is how many unique keys a session holds in a slice, searched
// from end to end, before a map: most sessions have a few.
const maxSeenSlice = 32

func kindCode(k Kind) byte {
	switch k {
	case Search:
		return 1
	case Investigation:
		return 2
	case Request:
		return 3
	}
	return 0
}

// NewCounter returns a Counter with the given window (0: unbounded).
func NewCounter(window time.Duration) *Counter {
	return &Counter{Window: window, people: map[uint64]int32{}, collided: map[whoKey]int32{},
		sessions: map[sessionKey]*session{}, ends: map[int64][]*session{}, tally: tally{totals: map[UnitKey]*Counts{}}}
}

// Add counts ev. It keeps ev's strings (immutable) while their clicks and
// sessions are open, not ev.
func (c *Counter) Add(ev *Event) error {
	t := ev.Time.Unix()
	w := int64(c.Window / time.Second)
	if w > 0 && t < c.watermark-w {
		return ErrLate
	}
	sm := ev.sums
	if !sm.ok {
		sm = sumsOf(ev)
	}
	wk := whoKey{who: ev.User}
	if ev.User == "" {
		wk = whoKey{who: ev.Session, bySession: true}
	}
	slot := c.person(wk, sm.who)
	p := &c.slots[slot]
	k := itemKey{platform: ev.Platform, item: ev.Item, kind: kindCode(ev.Kind), h: sm.item}
	i := p.find(k)
	if i < 0 {
		i = p.addKey(k, ev.Title, sm.title)
		c.keys++
	}
	sk, end := sessionKeyOf(ev, t)
	s := p.last
	if s == nil || s.gone || s.key != sk {
		s = c.sessionOf(sk, end, t)
		p.last = s
	}
	p.keys[i].cs = append(p.keys[i].cs, stamp{t, s})
	s.open++
	if w > 0 {
		c.queue = append(c.queue, queued{slot, p.gen, t})
	}
	if t > c.watermark {
		c.watermark = t
	}
	if w > 0 && c.watermark-c.flushedAt > max(w/4, 60) {
		c.flushQueue(c.watermark - w)
	}
	return nil
}

// person is the slot of wk, whose sums.who is h, new if it has none. A
// person is in people by h, or in collided if another held h then.
func (c *Counter) person(wk whoKey, h uint64) int32 {
	slot, ok := c.people[h]
	if ok && c.slots[slot].who == wk {
		return slot
	}
	if len(c.collided) > 0 {
		if s, ok := c.collided[wk]; ok {
			return s
		}
	}
	n := c.newPerson(wk, h)
	if ok {
		c.collided[wk] = n
	} else {
		c.people[h] = n
	}
	return n
}

func (c *Counter) newPerson(wk whoKey, h uint64) int32 {
	if n := len(c.free); n > 0 {
		slot := c.free[n-1]
		c.free = c.free[:n-1]
		c.slots[slot].who, c.slots[slot].sum = wk, h
		return slot
	}
	c.slots = append(c.slots, person{who: wk, sum: h})
	return int32(len(c.slots) - 1)
}

// find is the index of k in p.keys, or -1.
func (p *person) find(k itemKey) int {
	if p.index != nil {
		if i, ok := p.index[k]; ok {
			return int(i)
		}
		return -1
	}
	for i, h := range p.hashes {
		if h == k.h && p.keys[i].k == k {
			return i
		}
	}
	return -1
}

func (p *person) addKey(k itemKey, title string, th uint64) int {
	i := len(p.keys)
	if i < cap(p.keys) {
		p.keys = p.keys[:i+1]
		p.keys[i].k, p.keys[i].title, p.keys[i].th = k, title, th
	} else {
		p.keys = append(p.keys, keyClicks{k: k, title: title, th: th})
	}
	p.hashes = append(p.hashes, k.h)
	if p.index != nil {
		p.index[k] = int32(i)
	} else if len(p.keys) > manyKeys {
		p.index = make(map[itemKey]int32, 2*manyKeys)
		for j := range p.keys {
			p.index[p.keys[j].k] = int32(j)
		}
	}
	return i
}

// removeKey drops key i, its clicks decided, keeping its slice for reuse.
func (p *person) removeKey(i int) {
	last := len(p.keys) - 1
	p.keys[i], p.keys[last] = p.keys[last], p.keys[i]
	p.hashes[i] = p.hashes[last]
	p.hashes = p.hashes[:last]
	e := &p.keys[last]
	if p.index != nil {
		delete(p.index, e.k)
		if i != last {
			p.index[p.keys[i].k] = int32(i)
		}
	}
	clear(e.cs) // drop the sessions
	e.k, e.title, e.th, e.cs = itemKey{}, "", 0, e.cs[:0]
	p.keys = p.keys[:last]
}

// sessionKeyOf names ev's session at t (CoP 5.1 7.3): the log's session id
// and the date, or else the user, the date and the hour; end is when the
// session ends. The library is part of the key, so a session has one
// library (and, within a date, one month).
func sessionKeyOf(ev *Event, t int64) (k sessionKey, end int64) {
	if ev.Session != "" {
		day := t - t%86400
		return sessionKey{who: ev.Session, lib: ev.Library, slot: day, bySession: true}, day + 86400
	}
	hour := t - t%3600
	return sessionKey{who: ev.User, lib: ev.Library, slot: hour}, hour + 3600
}

// sessionOf is the open session of key k (ending at end), new if none is.
func (c *Counter) sessionOf(k sessionKey, end, t int64) *session {
	if s, ok := c.sessions[k]; ok {
		return s
	}
	s := &session{key: k, month: bibstat.MonthOf(time.Unix(t, 0).UTC()), end: end}
	c.sessions[k] = s
	c.ends[end] = append(c.ends[end], s)
	return s
}

// flushQueue decides the clicks of people queued before horizon - 30 s (in
// arrival order, so it stops at the first newer one), then forgets sessions
// that ended before horizon.
func (c *Counter) flushQueue(horizon int64) {
	for c.head < len(c.queue) && c.queue[c.head].t+doubleClick < horizon {
		q := c.queue[c.head]
		c.head++
		if p := &c.slots[q.slot]; p.gen == q.gen && p.decidedAt != horizon {
			c.decide(q.slot, horizon)
		}
	}
	if c.head > len(c.queue)/2 {
		c.queue = append(c.queue[:0], c.queue[c.head:]...)
		c.head = 0
	}
	c.forget(horizon)
}

// decide counts the person's clicks that are final at horizon: those 30 s
// before it, which no later event can double. Of a key's clicks in time
// order, one followed by another within 30 s is a double click and not
// counted (the last of a run counts). An emptied person is dropped.
func (c *Counter) decide(slot int32, horizon int64) {
	p := &c.slots[slot]
	p.decidedAt = horizon
	for i := 0; i < len(p.keys); {
		e := &p.keys[i]
		if !slices.IsSortedFunc(e.cs, byTime) {
			slices.SortStableFunc(e.cs, byTime)
		}
		d := c.decideKey(e, horizon)
		if d == len(e.cs) {
			p.removeKey(i)
			c.keys--
			continue
		}
		if d > 0 {
			n := copy(e.cs, e.cs[d:])
			clear(e.cs[n:])
			e.cs = e.cs[:n]
		}
		i++
	}
	if len(p.keys) == 0 {
		// The slot is free: a queued click of it is of another person.
		if c.people[p.sum] == slot {
			delete(c.people, p.sum)
		} else {
			delete(c.collided, p.who)
		}
		p.who, p.last, p.index, p.gen = whoKey{}, nil, nil, p.gen+1
		c.free = append(c.free, slot)
	}
}

// decideKey counts e's final clicks (sorted by time) and returns how many
// it decided.
func (c *Counter) decideKey(e *keyClicks, horizon int64) int {
	for j, st := range e.cs {
		if st.t+doubleClick >= horizon {
			return j
		}
		if j+1 >= len(e.cs) || e.cs[j+1].t-st.t > doubleClick {
			c.count(e, st.s)
		}
		if st.s.open--; st.s.open == 0 && st.s.gone {
			c.tally.add(counted{s: st.s, release: true})
		}
	}
	return len(e.cs)
}

func byTime(a, b stamp) int { return cmp.Compare(a.t, b.t) }

// forget drops the sessions that ended 30 s before horizon: no event can
// join them (a click of theirs still undecided keeps its session).
func (c *Counter) forget(horizon int64) {
	for end, ss := range c.ends {
		if end+doubleClick < horizon {
			for _, s := range ss {
				s.gone = true
				if s.open == 0 {
					c.tally.add(counted{s: s, release: true})
				}
				delete(c.sessions, s.key)
			}
			delete(c.ends, end)
		}
	}
	c.flushedAt = c.watermark
}

// count hands one counted click to the tally.
func (c *Counter) count(e *keyClicks, s *session) {
	c.tally.add(counted{k: e.k, title: e.title, th: e.th, s: s})
}

// tally adds up the counted clicks per session and unit. The unique counts
// do not depend on the order of a session's clicks, so it can run beside
// the Counter: clicks go to it in batches, each added up on a goroutine of
// its own after the one before (never two at once, and none left running
// once a batch is done). Only the tally touches a session's seen keys and
// units, and the totals.
type tally struct {
	totals  map[UnitKey]*Counts
	pending []counted
	spare   []counted     // the batch before pending, once it is added up
	done    chan struct{} // closed when the last batch is added up; nil if none
	free    [][]seenKey   // seen slices of released sessions
}

// maxFreeSeen bounds the tally's spare seen slices.
const maxFreeSeen = 1 << 12

type counted struct {
	k     itemKey
	title string
	th    uint64
	s     *session
	// Not a click: s is gone and has no click left to count, so its seen
	// keys' slice can serve another session.
	release bool
}

// tallyBatch is how many clicks go to the tally at once: enough that a
// goroutine a batch costs nothing, few enough to be a few hundred KB.
const tallyBatch = 4096

func (t *tally) add(x counted) {
	if t.pending == nil {
		t.pending = make([]counted, 0, tallyBatch)
	}
	t.pending = append(t.pending, x)
	if len(t.pending) == tallyBatch {
		t.handOff()
	}
}

// handOff starts adding up the pending clicks, once the batch before is done.
func (t *tally) handOff() {
	t.wait()
	batch := t.pending
	t.pending, t.spare = t.spare[:0], batch
	done := make(chan struct{})
	t.done = done
	go func() {
		defer close(done)
		for i := range batch {
			t.count(&batch[i])
		}
		clear(batch) // drop the sessions
	}()
}

// wait returns once every batch handed off is added up.
func (t *tally) wait() {
	if t.done != nil {
		<-t.done
		t.done = nil
	}
}

// count adds one counted click to its unit: a request is an investigation too.
func (t *tally) count(x *counted) {
	k, s := &x.k, x.s
	if x.release {
		if s.seen != nil && len(t.free) < maxFreeSeen {
			clear(s.seen)
			t.free = append(t.free, s.seen[:0])
		}
		s.seen, s.seenM = nil, nil
		return
	}
	if s.seen == nil && s.seenM == nil && len(t.free) > 0 {
		s.seen = t.free[len(t.free)-1]
		t.free = t.free[:len(t.free)-1]
	}
	n := s.unit(t.totals, k.platform)
	add := func(kind byte, total, uitem, utitle int) {
		n[total]++
		if s.once(seenKey{platform: k.platform, what: 'i', kind: kind, value: k.item, h: k.h}) {
			n[uitem]++
		}
		if x.title != "" && s.once(seenKey{platform: k.platform, what: 't', kind: kind, value: x.title, h: x.th}) {
			n[utitle]++
		}
	}
	switch k.kind {
	case 1:
		n[0]++
	case 2:
		add(2, 1, 2, 3)
	case 3:
		add(2, 1, 2, 3)
		add(3, 4, 5, 6)
	}
}

// unit is the session's counts on platform, in totals.
func (s *session) unit(totals map[UnitKey]*Counts, platform string) *Counts {
	for _, u := range s.units {
		if u.platform == platform {
			return u.n
		}
	}
	u := UnitKey{Platform: platform, Library: s.key.lib, Month: s.month}
	n := totals[u]
	if n == nil {
		n = &Counts{}
		totals[u] = n
	}
	s.units = append(s.units, sessionUnit{platform, n})
	return n
}

// once reports whether k is new to the session, and notes it.
func (s *session) once(k seenKey) bool {
	if s.seenM != nil {
		if _, ok := s.seenM[k]; ok {
			return false
		}
		s.seenM[k] = struct{}{}
		return true
	}
	for i := range s.seen {
		// The hash first: most keys differ in it, and it is one word.
		if s.seen[i].h == k.h && s.seen[i] == k {
			return false
		}
	}
	if s.seen == nil {
		s.seen = make([]seenKey, 0, 8)
	}
	if len(s.seen) < maxSeenSlice {
		s.seen = append(s.seen, k)
		return true
	}
	s.seenM = make(map[seenKey]struct{}, 2*maxSeenSlice)
	for _, o := range s.seen {
		s.seenM[o] = struct{}{}
	}
	s.seenM[k] = struct{}{}
	s.seen = nil
	return true
}

// Finish decides every click still held and returns the totals per unit.
func (c *Counter) Finish() map[UnitKey]Counts {
	const end = 1<<62 - 1
	for _, slot := range c.people {
		c.decide(slot, end)
	}
	for _, slot := range c.collided {
		c.decide(slot, end)
	}
	c.forget(end)
	c.queue, c.head = nil, 0
	c.tally.handOff()
	c.tally.wait()
	out := make(map[UnitKey]Counts, len(c.tally.totals))
	for k, v := range c.tally.totals {
		out[k] = *v
	}
	return out
}

// Open is how many sessions and click keys the Counter holds now.
func (c *Counter) Open() (sessions, clicks int) { return len(c.sessions), c.keys }
