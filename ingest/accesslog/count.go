package accesslog

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"
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
type Counter struct {
	Window time.Duration

	clicks    map[clickKey]*clickList
	sessions  map[string]*session
	totals    map[UnitKey]*Counts
	watermark int64 // newest event time seen, Unix seconds
	flushedAt int64
	// queue holds each click's key in arrival order, so that a windowed
	// flush visits only keys with clicks old enough to decide.
	queue []queued
	head  int
	stamp []byte
}

// clickKey is what a double click repeats: the same user (or session,
// without one) on the same item, of the same kind.
type clickKey struct {
	who, platform, item string
	kind                Kind
}

type queued struct {
	l *clickList
	t int64
}

// clickList is one key's undecided clicks; done once they are all decided
// and the key dropped (a queued pointer may outlive it).
type clickList struct {
	k    clickKey
	cs   []click
	done bool
}

type click struct {
	t     int64
	s     *session
	title string
}

// session holds what a session has counted once: its unique items and
// titles, and its units' counts by platform.
type session struct {
	id    string
	lib   bibstat.LibraryID
	month bibstat.Month
	end   int64 // Unix seconds after which no event belongs to it
	seen  map[seenKey]struct{}
	units map[string]*Counts
}

type seenKey struct {
	platform, value string
	what            byte // 'i' item, 't' title
	kind            Kind
}

// NewCounter returns a Counter with the given window (0: unbounded).
func NewCounter(window time.Duration) *Counter {
	return &Counter{Window: window, clicks: map[clickKey]*clickList{}, sessions: map[string]*session{}, totals: map[UnitKey]*Counts{}}
}

// Add counts ev (copying what it keeps).
func (c *Counter) Add(ev *Event) error {
	t := ev.Time.Unix()
	w := int64(c.Window / time.Second)
	if w > 0 && t < c.watermark-w {
		return ErrLate
	}
	who := ev.User
	if who == "" {
		who = "s" + ev.Session
	}
	k := clickKey{who: who, platform: ev.Platform, item: ev.Item, kind: ev.Kind}
	l := c.clicks[k]
	title := ev.Title
	if l == nil {
		// A reader's keys may point into its whole line: keep only the key.
		k.item, title = strings.Clone(k.item), strings.Clone(title)
		l = &clickList{k: k}
		c.clicks[k] = l
	} else if len(l.cs) > 0 {
		title = l.cs[0].title
	}
	l.cs = append(l.cs, click{t: t, s: c.sessionOf(ev, t), title: title})
	if w > 0 {
		c.queue = append(c.queue, queued{l, t})
	}
	if t > c.watermark {
		c.watermark = t
	}
	if w > 0 && c.watermark-c.flushedAt > max(w/4, 60) {
		c.flushQueue(c.watermark - w)
	}
	return nil
}

// sessionOf names ev's session (CoP 5.1 7.3): the log's session id and the
// date, or else the user, the date and the hour.
func (c *Counter) sessionOf(ev *Event, t int64) *session {
	day := t - t%86400
	var end int64
	b := c.stamp[:0]
	if ev.Session != "" {
		b = append(append(b, 's'), ev.Session...)
		b = strconv.AppendInt(append(append(append(b, '/'), ev.Library...), '/'), day, 10)
		end = day + 86400
	} else {
		hour := t - t%3600
		b = append(append(b, 'u'), ev.User...)
		b = strconv.AppendInt(append(append(append(b, '/'), ev.Library...), '/'), hour, 10)
		end = hour + 3600
	}
	c.stamp = b
	// The library is part of the id, so a session has one library (and,
	// within a date, one month); the lookup by string(b) does not allocate.
	if s, ok := c.sessions[string(b)]; ok {
		return s
	}
	s := &session{id: string(b), lib: ev.Library, month: bibstat.MonthOf(time.Unix(t, 0).UTC()), end: end,
		seen: map[seenKey]struct{}{}, units: map[string]*Counts{}}
	c.sessions[s.id] = s
	return s
}

// flushQueue decides the clicks of keys queued before horizon - 30 s (in
// arrival order, so it stops at the first newer one), then forgets sessions
// that ended before horizon.
func (c *Counter) flushQueue(horizon int64) {
	for c.head < len(c.queue) && c.queue[c.head].t+doubleClick < horizon {
		l := c.queue[c.head].l
		c.queue[c.head] = queued{}
		c.head++
		if !l.done {
			c.decideKey(l, horizon)
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
	for _, l := range c.clicks {
		c.decideKey(l, horizon)
	}
	c.forget(horizon)
}

func (c *Counter) decideKey(l *clickList, horizon int64) {
	slices.SortFunc(l.cs, func(a, b click) int { return cmp.Compare(a.t, b.t) })
	i := c.decide(l.k, l.cs, horizon)
	if i == len(l.cs) {
		l.done, l.cs = true, nil
		delete(c.clicks, l.k)
	} else if i > 0 {
		l.cs = append(l.cs[:0:0], l.cs[i:]...)
	}
}

// forget drops the sessions that ended 30 s before horizon: no click of
// theirs is undecided, and no event can join them.
func (c *Counter) forget(horizon int64) {
	for id, s := range c.sessions {
		if s.end+doubleClick < horizon {
			delete(c.sessions, id)
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
	n := s.units[k.platform]
	if n == nil {
		u := UnitKey{Platform: k.platform, Library: s.lib, Month: s.month}
		if n = c.totals[u]; n == nil {
			n = &Counts{}
			c.totals[u] = n
		}
		s.units[k.platform] = n
	}
	once := func(what byte, kind Kind, v string) bool {
		sk := seenKey{platform: k.platform, what: what, kind: kind, value: v}
		if _, ok := s.seen[sk]; ok {
			return false
		}
		s.seen[sk] = struct{}{}
		return true
	}
	add := func(kind Kind, total, uitem, utitle int) {
		n[total]++
		if once('i', kind, k.item) {
			n[uitem]++
		}
		if cl.title != "" && once('t', kind, cl.title) {
			n[utitle]++
		}
	}
	switch k.kind {
	case Search:
		n[0]++
	case Investigation:
		add(Investigation, 1, 2, 3)
	case Request:
		add(Investigation, 1, 2, 3)
		add(Request, 4, 5, 6)
	}
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
