package accesslog

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
)

// RefRead and RefCount are the reference path, for the external tests.
var RefRead, RefCount = refRead, refCount

// The reference path: the plain per-line reader and an in-memory batch
// counter, written for clarity, not speed. The fast Reader and Counter must
// agree with it on every input (agree_test.go).

// refRead reads data line by line as the first, simple Reader did: each
// line a string, split into fields or decoded into a map, every pseudonym
// an HMAC, every URL matched anew (by the Reader's own rules: those did not
// change, only their cache).
func refRead(c *Config, src *Source, key []byte, robots *Robots, name string, data []byte) ([]Event, Stats) {
	keys, _ := NewKeyring(key)
	var extra [3]int
	for i, f := range []string{src.Fields.User, src.Fields.Library, src.Fields.Session} {
		extra[i], _ = combinedField(f)
	}
	bySvc := map[string]*Platform{}
	for i := range c.Platforms {
		for _, svc := range c.Platforms[i].Services {
			bySvc[svc] = &c.Platforms[i]
		}
	}
	ref := &refReader{src: src, keys: keys, extra: extra, robots: robots, isRobot: map[string]bool{},
		urls: NewReader(c, src, keys, robots).newParser(), bySvc: bySvc}
	var st Stats
	var evs []Event
	lines := strings.SplitAfter(string(data), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for _, raw := range lines {
		st.Lines++
		var ev Event
		o, reason := isBad, "line longer than the buffer"
		if len(raw) <= maxLineBytes {
			l := strings.TrimSuffix(strings.TrimSuffix(raw, "\n"), "\r")
			if src.Kind == "jsonl" {
				o, reason = ref.jsonLine(l, &ev)
			} else {
				o, reason = ref.combinedLine(l, &ev)
			}
		}
		switch o {
		case isEvent:
			st.Events++
			evs = append(evs, ev)
		case isRobot:
			st.Robots++
		case isIgnored:
			st.Ignored++
		case isBad:
			st.Bad++
			if len(st.BadLines) < MaxBadLines {
				st.BadLines = append(st.BadLines, BadLine{File: name, Line: st.Lines, Reason: reason})
			}
		}
	}
	return evs, st
}

type refReader struct {
	src     *Source
	keys    *Keyring
	robots  *Robots
	urls    *parser
	bySvc   map[string]*Platform
	extra   [3]int
	isRobot map[string]bool // the robots regexp is slow on long agents
}

func (rd *refReader) robot(agent string) bool {
	v, ok := rd.isRobot[agent]
	if !ok {
		v = rd.robots.re.MatchString(agent)
		rd.isRobot[agent] = v
	}
	return v
}

func (rd *refReader) combinedLine(s string, ev *Event) (outcome, string) {
	f, ok := refSplit(s)
	if !ok || len(f) <= fAgent {
		return isBad, "not the combined log format"
	}
	t, ok := parseCLFTime([]byte(f[fTime])) // the full parse, no cached minute
	if !ok {
		return isBad, "time is not dd/Mon/yyyy:hh:mm:ss ±zzzz"
	}
	if rd.robot(f[fAgent]) {
		return isRobot, ""
	}
	status, err := strconv.Atoi(f[fStatus])
	if err != nil {
		return isBad, "status is not a number"
	}
	method, rest, ok1 := strings.Cut(f[fRequest], " ")
	url, _, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 {
		return isBad, "request is not METHOD URL PROTOCOL"
	}
	if (status != 200 && status != 304) || (method != "GET" && method != "POST") {
		return isIgnored, ""
	}
	*ev = Event{}
	var ok3 bool
	if ev.Platform, ev.Kind, ev.Item, ev.Title, ok3 = rd.urls.fromURL(url); !ok3 {
		return isIgnored, ""
	}
	if ev.Kind == Search && ev.Item == "" {
		ev.Item = rd.keys.Pseudonym("search", url)[:16]
	}
	pick := func(i int) string {
		j := rd.extra[i]
		if j < 0 || j >= len(f) || f[j] == "-" {
			return ""
		}
		return f[j]
	}
	return rd.finish(ev, t, pick(0), pick(2), pick(1))
}

func refSplit(s string) ([]string, bool) {
	var out []string
	for i := 0; i < len(s); {
		switch s[i] {
		case ' ':
			i++
		case '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return out, false
			}
			out = append(out, s[i+1:i+j])
			i += j + 1
		case '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return out, false
			}
			out = append(out, s[i+1:j])
			i = j + 1
		default:
			j := strings.IndexByte(s[i:], ' ')
			if j < 0 {
				j = len(s) - i
			}
			out = append(out, s[i:i+j])
			i += j
		}
	}
	return out, true
}

func (rd *refReader) finish(ev *Event, t time.Time, user, session, library string) (outcome, string) {
	if user == "" && session == "" {
		return isBad, "no user and no session"
	}
	if library == "" {
		return isBad, "no library"
	}
	lib, err := bibstat.ParseLibraryID(library)
	if err != nil {
		return isBad, "library is not a library number"
	}
	if strings.ContainsAny(ev.Item, "\t\n\r") || strings.ContainsAny(ev.Title, "\t\n\r") {
		return isBad, "item key holds a control character"
	}
	ev.Time = t.UTC().Truncate(time.Second)
	ev.User = rd.keys.Pseudonym("user", user)
	ev.Session = rd.keys.Pseudonym("session", session)
	ev.Library = lib
	ev.sums = sumsOf(ev) // the Counter's, derived: so that events compare
	return isEvent, ""
}

// refCount counts events all at once: group each user's (or session's)
// clicks on an item by kind, sort them by time, keep the last of every run
// within 30 s, and count a kept click's item and title once per session.
func refCount(evs []Event) map[UnitKey]Counts {
	type key struct {
		who, platform, item string
		kind                Kind
	}
	type sess struct {
		who, lib string
		slot     int64
	}
	type click struct {
		t     int64
		s     sess
		title string
	}
	clicks := map[key][]click{}
	for _, ev := range evs {
		t := ev.Time.Unix()
		k := key{who: "u" + ev.User, platform: ev.Platform, item: ev.Item, kind: ev.Kind}
		s := sess{who: "u" + ev.User, lib: string(ev.Library), slot: t - t%3600}
		if ev.User == "" {
			k.who = "s" + ev.Session
		}
		if ev.Session != "" {
			s = sess{who: "s" + ev.Session, lib: string(ev.Library), slot: t - t%86400}
		}
		title := ev.Title
		if cs := clicks[k]; len(cs) > 0 {
			title = cs[0].title // as the Counter: a key's clicks share the first's title
		}
		clicks[k] = append(clicks[k], click{t, s, title})
	}
	out := map[UnitKey]Counts{}
	seen := map[string]bool{}
	for k, cs := range clicks {
		slices.SortStableFunc(cs, func(a, b click) int { return cmp.Compare(a.t, b.t) })
		for i, cl := range cs {
			if i+1 < len(cs) && cs[i+1].t-cl.t <= doubleClick {
				continue // a double click: the last of the run counts
			}
			u := UnitKey{Platform: k.platform, Library: bibstat.LibraryID(cl.s.lib), Month: bibstat.MonthOf(time.Unix(cl.s.slot, 0).UTC())}
			n := out[u]
			once := func(what string) bool {
				id := strings.Join([]string{cl.s.who, cl.s.lib, strconv.FormatInt(cl.s.slot, 10), k.platform, what}, "\x00")
				if seen[id] {
					return false
				}
				seen[id] = true
				return true
			}
			for _, kind := range []Kind{Investigation, Request} {
				if k.kind != kind && !(k.kind == Request && kind == Investigation) {
					continue
				}
				base := 1
				if kind == Request {
					base = 4
				}
				n[base]++
				if once("i" + string(kind) + "\x00" + k.item) {
					n[base+1]++
				}
				if cl.title != "" && once("t"+string(kind)+"\x00"+cl.title) {
					n[base+2]++
				}
			}
			if k.kind == Search {
				n[0]++
			}
			out[u] = n
		}
	}
	return out
}

// SetBlockSize sets the size of the blocks rd reads (0: the default).
func SetBlockSize(rd *Reader, n int) { rd.blockSize = n }

func (rd *refReader) jsonLine(s string, ev *Event) (outcome, string) {
	var obj map[string]any
	if err := json.Unmarshal([]byte(s), &obj); err != nil {
		return isBad, "not a JSON object"
	}
	fl := &rd.src.Fields
	get := func(k string) (string, bool) { return jsonField(obj, k) } // the field rule is the Reader's, as the URL rules are
	ts, ok := get(fl.Time)
	t, err := time.Parse(time.RFC3339, ts)
	if !ok || err != nil {
		return isBad, "time is not RFC 3339"
	}
	agent, ok := get(fl.Agent)
	if !ok {
		return isBad, "agent is not a string"
	}
	if fl.Agent != "" && rd.robot(agent) {
		return isRobot, ""
	}
	user, ok1 := get(fl.User)
	session, ok2 := get(fl.Session)
	library, ok3 := get(fl.Library)
	url, ok4 := get(fl.URL)
	if !(ok1 && ok2 && ok3 && ok4) {
		return isBad, "user, session, library or url is not a string"
	}
	*ev = Event{}
	if url != "" {
		var matched bool
		if ev.Platform, ev.Kind, ev.Item, ev.Title, matched = rd.urls.fromURL(url); !matched {
			return isIgnored, ""
		}
		if ev.Kind == Search && ev.Item == "" {
			ev.Item = rd.keys.Pseudonym("search", url)[:16]
		}
		return rd.finish(ev, t, user, session, library)
	}
	svc, ok1 := get(fl.Service)
	name, ok2 := get(fl.Event)
	item, ok3 := get(fl.Item)
	title, ok4 := get(fl.Title)
	if !(ok1 && ok2 && ok3 && ok4) {
		return isBad, "service, event, item or title is not a string"
	}
	p := rd.bySvc[svc]
	if p == nil {
		return isIgnored, ""
	}
	kind, ok := p.Events[name]
	if !ok {
		return isIgnored, ""
	}
	if kind != Search && item == "" {
		return isBad, "a " + string(kind) + " event without an item"
	}
	ev.Platform, ev.Kind, ev.Item, ev.Title = p.ID, kind, item, title
	if kind == Search && item == "" {
		ev.Item = rd.keys.Pseudonym("search", ts+"\x00"+user+session)[:16]
	}
	return rd.finish(ev, t, user, session, library)
}
