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
// events does not matter at all; with a Window it closes double clicks and
// sessions once events are Window past them, so memory is bounded by the
// sessions open in that window, and an event older than that is ErrLate.
// Not safe for concurrent use.
//
// It keeps what it holds in compact structures: a key's undecided clicks
// in a reused slot of lists (so a click costs no allocation), the queue of
// clicks by slot number, sessions by their end for forgetting them, and a
// session's unique items in a short slice.
type Counter struct {
	Window time.Duration

	clicks    map[clickKey]int32 // the slot in lists of a key's undecided clicks
	lists     []clickList
	free      []int32 // slots of lists not in use
	sessions  map[sessionKey]*session
	ends      map[int64][]*session // open sessions by end
	totals    map[UnitKey]*Counts
	watermark int64 // newest event time seen, Unix seconds
	flushedAt int64
	// queue holds each click's slot in arrival order, so that a windowed
	// flush visits only keys with clicks old enough to decide.
	queue []queued
	head  int
}

// clickKey is what a double click repeats: the same user (or session,
// without one) on the same item, of the same kind.
type clickKey struct {
	who, platform, item string
	kind                byte // kindCode
	bySession           bool // who is the session, the event had no user
}

// queued is a click's slot, and the slot's generation then: a slot
// decided and reused since is another key's.
type queued struct {
	slot int32
	gen  uint32
	t    int64
}

// clickList is one key's undecided clicks.
type clickList struct {
	k   clickKey
	cs  []click
	gen uint32
}

type click struct {
	t     int64
	s     *session
	title string
}

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
	what, kind      byte // 'i' item or 't' title; kindCode
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
	return &Counter{Window: window, clicks: map[clickKey]int32{}, sessions: map[sessionKey]*session{},
		ends: map[int64][]*session{}, totals: map[UnitKey]*Counts{}}
}

// Add counts ev. It keeps ev's strings (immutable) as long as their clicks
// and sessions are open, not ev.
func (c *Counter) Add(ev *Event) error {
	t := ev.Time.Unix()
	w := int64(c.Window / time.Second)
	if w > 0 && t < c.watermark-w {
		return ErrLate
	}
	k := clickKey{who: ev.User, platform: ev.Platform, item: ev.Item, kind: kindCode(ev.Kind)}
	if ev.User == "" {
		k.who, k.bySession = ev.Session, true
	}
	slot, ok := c.clicks[k]
	if !ok {
		slot = c.newList(k)
		c.clicks[k] = slot
	}
	l := &c.lists[slot]
	title := ev.Title
	if len(l.cs) > 0 {
		title = l.cs[0].title
	}
	l.cs = append(l.cs, click{t: t, s: c.sessionOf(ev, t), title: title})
	if w > 0 {
		c.queue = append(c.queue, queued{slot, l.gen, t})
	}
	if t > c.watermark {
		c.watermark = t
	}
	if w > 0 && c.watermark-c.flushedAt > max(w/4, 60) {
		c.flushQueue(c.watermark - w)
	}
	return nil
}

func (c *Counter) newList(k clickKey) int32 {
	if n := len(c.free); n > 0 {
		slot := c.free[n-1]
		c.free = c.free[:n-1]
		c.lists[slot].k = k
		return slot
	}
	c.lists = append(c.lists, clickList{k: k})
	return int32(len(c.lists) - 1)
}

// sessionOf names ev's session (CoP 5.1 7.3): the log's session id and the
// date, or else the user, the date and the hour.
func (c *Counter) sessionOf(ev *Event, t int64) *session {
	day := t - t%86400
	k := sessionKey{who: ev.Session, lib: ev.Library, slot: day, bySession: true}
	end := day + 86400
	if ev.Session == "" {
		hour := t - t%3600
		k = sessionKey{who: ev.User, lib: ev.Library, slot: hour}
		end = hour + 3600
	}
	// The library is part of the key, so a session has one library (and,
	// within a date, one month).
	if s, ok := c.sessions[k]; ok {
		return s
	}
	s := &session{key: k, month: bibstat.MonthOf(time.Unix(t, 0).UTC()), end: end}
	c.sessions[k] = s
	c.ends[end] = append(c.ends[end], s)
	return s
}

// flushQueue decides the clicks of keys queued before horizon - 30 s (in
// arrival order, so it stops at the first newer one), then forgets sessions
// that ended before horizon.
func (c *Counter) flushQueue(horizon int64) {
	for c.head < len(c.queue) && c.queue[c.head].t+doubleClick < horizon {
		q := c.queue[c.head]
		c.head++
		if c.lists[q.slot].gen == q.gen {
			c.decideKey(q.slot, horizon)
		}
	}
	if c.head > len(c.queue)/2 {
		c.queue = append(c.queue[:0], c.queue[c.head:]...)
		c.head = 0
	}
	c.forget(horizon)
}

// flush decides every click no event at or after horizon can still
// double, then forgets sessions that ended before it.
func (c *Counter) flush(horizon int64) {
	for _, slot := range c.clicks {
		c.decideKey(slot, horizon)
	}
	c.forget(horizon)
}

func (c *Counter) decideKey(slot int32, horizon int64) {
	l := &c.lists[slot]
	if !slices.IsSortedFunc(l.cs, byTime) {
		slices.SortFunc(l.cs, byTime)
	}
	i := c.decide(l.k, l.cs, horizon)
	if i == len(l.cs) {
		// The slot is free: a queued click of it is of a decided key.
		delete(c.clicks, l.k)
		clear(l.cs) // drop the sessions and titles
		l.k, l.cs, l.gen = clickKey{}, l.cs[:0], l.gen+1
		c.free = append(c.free, slot)
	} else if i > 0 {
		n := copy(l.cs, l.cs[i:])
		clear(l.cs[n:])
		l.cs = l.cs[:n]
	}
}

func byTime(a, b click) int { return cmp.Compare(a.t, b.t) }

// forget drops the sessions that ended 30 s before horizon: no click of
// theirs is undecided, and no event can join them.
func (c *Counter) forget(horizon int64) {
	for end, ss := range c.ends {
		if end+doubleClick < horizon {
			for _, s := range ss {
				delete(c.sessions, s.key)
			}
			delete(c.ends, end)
		}
	}
	c.flushedAt = c.watermark
}

// decide counts the clicks of cs (sorted by time) that are final: a click
// followed by another within 30 s is a double click and not counted (the
// last of a run counts); a click is final once a later one is known or no
// later one can come (30 s before horizon). It returns how many it decided.
func (c *Counter) decide(k clickKey, cs []click, horizon int64) int {
	for i, cl := range cs {
		if i+1 < len(cs) {
			if cs[i+1].t-cl.t <= doubleClick {
				continue
			}
		} else if cl.t+doubleClick >= horizon {
			return i
		}
		c.count(k, cl)
	}
	return len(cs)
}

// count adds one counted click to its unit: a request is an investigation too.
func (c *Counter) count(k clickKey, cl click) {
	s := cl.s
	n := s.unit(c, k.platform)
	add := func(kind byte, total, uitem, utitle int) {
		n[total]++
		if s.once(seenKey{platform: k.platform, what: 'i', kind: kind, value: k.item}) {
			n[uitem]++
		}
		if cl.title != "" && s.once(seenKey{platform: k.platform, what: 't', kind: kind, value: cl.title}) {
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

// unit is the session's counts on platform, in the Counter's totals.
func (s *session) unit(c *Counter, platform string) *Counts {
	for _, u := range s.units {
		if u.platform == platform {
			return u.n
		}
	}
	u := UnitKey{Platform: platform, Library: s.key.lib, Month: s.month}
	n := c.totals[u]
	if n == nil {
		n = &Counts{}
		c.totals[u] = n
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
	if slices.Contains(s.seen, k) {
		return false
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
	c.flush(1<<62 - 1)
	c.queue, c.head = nil, 0
	out := make(map[UnitKey]Counts, len(c.totals))
	for k, v := range c.totals {
		out[k] = *v
	}
	return out
}

// Open is how many sessions and click keys the Counter holds now.
func (c *Counter) Open() (sessions, clicks int) { return len(c.sessions), len(c.clicks) }
