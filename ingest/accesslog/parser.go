package accesslog

import (
	"bytes"
	"encoding/binary"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
)

// parser reads the lines of one worker. Each has its own caches and
// Keyring, so workers share nothing but their Reader's read-only config.
type parser struct {
	rd      *Reader
	keys    *Keyring
	robots  robotCache
	urls    map[string]urlMatch
	libs    map[string]bibstat.LibraryID // interned: a log names few libraries
	fields  [][]byte
	jsonbuf map[string]any
	pairs   cache[[2]string] // user and session → their pseudonyms
	pairKey []byte
	// The minute of the last line's time, "dd/Mon/yyyy:hh:mm" and the zone,
	// and its start (clfTime).
	minute   [22]byte
	minuteOK bool
	minuteAt time.Time
}

// urlMatch is what a URL is: a platform's usage, its kind and keys. A
// search's item is the pseudonym of its URL.
type urlMatch struct {
	ok                    bool
	platform, item, title string
	kind                  Kind
}

func (rd *Reader) newParser() *parser {
	return &parser{rd: rd, keys: rd.keys.clone(), robots: robotCache{r: rd.robots},
		urls: map[string]urlMatch{}, libs: map[string]bibstat.LibraryID{}}
}

// parse reads the lines of b into b.events and b.st, numbering bad lines
// from 1 in the block (the delivery adds the lines before it).
func (p *parser) parse(b *block) {
	b.events = b.events[:0]
	b.st = Stats{BadLines: b.st.BadLines[:0]}
	bad := func(reason string) {
		b.st.Bad++
		if len(b.st.BadLines) < MaxBadLines {
			b.st.BadLines = append(b.st.BadLines, BadLine{Line: b.st.Lines, Reason: reason})
		}
	}
	if b.long {
		b.st.Lines = 1
		bad(tooLong)
		return
	}
	var ev Event
	for data := b.buf; len(data) > 0; {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line = data[:i+1]
		}
		data = data[len(line):]
		b.st.Lines++
		if len(line) > maxLineBytes {
			bad(tooLong)
			continue
		}
		o, reason := p.line(trimEOL(line), &ev)
		switch o {
		case isEvent:
			b.st.Events++
			b.events = append(b.events, ev)
		case isRobot:
			b.st.Robots++
		case isIgnored:
			b.st.Ignored++
		case isBad:
			bad(reason)
		}
	}
}

// tooLong is the reason a line over maxLineBytes is bad.
const tooLong = "line longer than the buffer"

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

func (p *parser) line(b []byte, ev *Event) (outcome, string) {
	if p.rd.src.Kind == "jsonl" {
		return p.jsonLine(b, ev)
	}
	return p.combinedLine(b, ev)
}

// finish fills ev's identity from the raw user, session and library; its
// platform, kind and keys are set.
func (p *parser) finish(ev *Event, t time.Time, user, session, library []byte) (outcome, string) {
	if len(user) == 0 && len(session) == 0 {
		return isBad, "no user and no session"
	}
	if len(library) == 0 {
		return isBad, "no library"
	}
	lib, ok := p.libs[string(library)]
	if !ok {
		l, err := bibstat.ParseLibraryID(string(library))
		if err != nil {
			return isBad, "library is not a library number"
		}
		if len(p.libs) < maxCached {
			p.libs[string(library)] = l
		}
		lib = l
	}
	if strings.ContainsAny(ev.Item, "\t\n\r") || strings.ContainsAny(ev.Title, "\t\n\r") {
		return isBad, "item key holds a control character"
	}
	ev.Time = t.UTC().Truncate(time.Second)
	ev.User, ev.Session = p.pseudonyms(user, session)
	ev.Library = lib
	ev.sums = sumsOf(ev)
	return isEvent, ""
}

// pseudonyms are the pseudonyms of a line's user and session, cached as
// a pair: one lookup a line, not two.
func (p *parser) pseudonyms(user, session []byte) (string, string) {
	k := append(binary.AppendUvarint(p.pairKey[:0], uint64(len(user))), user...)
	k = append(k, session...)
	p.pairKey = k
	if v, ok := p.pairs.get(k, maxPairs); ok {
		return v[0], v[1]
	}
	v := [2]string{p.keys.pseudonym("user", user), p.keys.pseudonym("session", session)}
	p.pairs.put(string(k), v, maxPairs)
	return v[0], v[1]
}

// maxPairs bounds the pair cache: it needs only the sessions open now,
// and a small one stays in the CPU's cache.
const maxPairs = 1 << 13

// matchURL is fromURL, cached by URL: a log repeats its URLs, and the
// rules are regular expressions. The cached strings are the cache's own.
func (p *parser) matchURL(u []byte) urlMatch {
	if m, ok := p.urls[string(u)]; ok {
		return m
	}
	us := string(u)
	var m urlMatch
	m.platform, m.kind, m.item, m.title, m.ok = p.fromURL(us)
	if m.ok && m.kind == Search && m.item == "" {
		m.item = p.keys.Pseudonym("search", us)[:16]
	}
	if len(p.urls) >= maxCached/4 {
		clear(p.urls)
	}
	p.urls[us] = m
	return m
}

// fromURL recognises platform, kind and keys from a URL; false if it is
// no usage of a declared platform.
func (p *parser) fromURL(u string) (platform string, kind Kind, item, title string, ok bool) {
	rest, ok := strings.CutPrefix(u, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(u, "http://"); !ok {
			return "", "", "", "", false
		}
	}
	host, path := rest, "/"
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host, path = rest[:i], rest[i:]
	} else if i := strings.IndexByte(rest, '?'); i >= 0 {
		host, path = rest[:i], "/"+rest[i:]
	}
	if i := strings.IndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	pl := p.rd.byHost[host]
	if pl == nil {
		pl = p.rd.byHost[strings.ToLower(host)]
	}
	if pl == nil {
		return "", "", "", "", false
	}
	kind, item, title, ok = pl.match(path)
	return pl.ID, kind, item, title, ok
}
