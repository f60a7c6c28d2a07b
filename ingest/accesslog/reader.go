package accesslog

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
)

// Reader reads one source's lines into Events. Not safe for concurrent use.
type Reader struct {
	src     *Source
	keys    *Keyring
	robots  *Robots
	byHost  map[string]*Platform
	bySvc   map[string]*Platform
	extra   [3]int // combined: which field holds user, library, session
	fields  []string
	jsonbuf map[string]any
	libs    map[string]bibstat.LibraryID // interned: a log names few libraries
}

// NewReader returns a Reader of source src under c.
func NewReader(c *Config, src *Source, keys *Keyring, robots *Robots) *Reader {
	rd := &Reader{src: src, keys: keys, robots: robots, byHost: map[string]*Platform{}, bySvc: map[string]*Platform{},
		libs: map[string]bibstat.LibraryID{}}
	for i := range c.Platforms {
		p := &c.Platforms[i]
		for _, h := range p.Hosts {
			rd.byHost[strings.ToLower(h)] = p
		}
		for _, s := range p.Services {
			rd.bySvc[s] = p
		}
	}
	for i, f := range []string{src.Fields.User, src.Fields.Library, src.Fields.Session} {
		rd.extra[i], _ = combinedField(f)
	}
	return rd
}

// Stats says what became of a log's lines. Every line is exactly one of
// Events, Robots, Ignored or Bad.
type Stats struct {
	Lines   int64
	Events  int64
	Robots  int64 // excluded by the COUNTER robots list
	Ignored int64 // no platform, no usage path, or not a success: not usage
	Bad     int64
	// BadLines lists the first MaxBadLines bad lines, by file and line.
	BadLines []BadLine
}

// Add adds o's counts to s.
func (s *Stats) Add(o Stats) {
	s.Lines += o.Lines
	s.Events += o.Events
	s.Robots += o.Robots
	s.Ignored += o.Ignored
	s.Bad += o.Bad
	s.BadLines = append(s.BadLines, o.BadLines[:min(len(o.BadLines), MaxBadLines-min(MaxBadLines, len(s.BadLines)))]...)
}

// MaxBadLines bounds the bad lines listed (all are counted).
const MaxBadLines = 1000

// BadLine is a line that could not be read. Reason never quotes the line.
type BadLine struct {
	File   string
	Line   int64
	Reason string
}

func (b BadLine) String() string { return fmt.Sprintf("%s:%d: %s", b.File, b.Line, b.Reason) }

// maxLineBytes bounds one line; a longer one is bad, not a reason to stop.
const maxLineBytes = 64 << 10

// outcome is what one line is.
type outcome int

const (
	isEvent outcome = iota
	isRobot
	isIgnored
	isBad
)

// Read reads every line of r (named name in bad-line reports) and calls fn
// with each Event (reused: copy what you keep).
func (rd *Reader) Read(ctx context.Context, name string, r io.Reader, fn func(*Event) error) (Stats, error) {
	var st Stats
	br := bufio.NewReaderSize(r, 256<<10)
	var ev Event
	for {
		if st.Lines%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return st, err
			}
		}
		line, err := br.ReadSlice('\n')
		long := false
		for errors.Is(err, bufio.ErrBufferFull) {
			long = true // skip the rest of an overlong line
			_, err = br.ReadSlice('\n')
		}
		if len(line) == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				return st, nil
			}
			return st, fmt.Errorf("read %s: %w", name, err)
		}
		st.Lines++
		o, reason := isBad, "line longer than the buffer"
		if !long && len(line) <= maxLineBytes {
			o, reason = rd.line(trimEOL(line), &ev)
		}
		switch o {
		case isEvent:
			st.Events++
			if ferr := fn(&ev); ferr != nil {
				return st, ferr
			}
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
		if err != nil {
			if errors.Is(err, io.EOF) {
				return st, nil
			}
			return st, fmt.Errorf("read %s: %w", name, err)
		}
	}
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

func (rd *Reader) line(b []byte, ev *Event) (outcome, string) {
	if rd.src.Kind == "jsonl" {
		return rd.jsonLine(b, ev)
	}
	return rd.combinedLine(string(b), ev)
}

// finish fills ev's identity from the raw user, session and library, and
// its platform, kind and keys from the URL (or an SSO event).
func (rd *Reader) finish(ev *Event, t time.Time, user, session, library string) (outcome, string) {
	if user == "" && session == "" {
		return isBad, "no user and no session"
	}
	if library == "" {
		return isBad, "no library"
	}
	lib, ok := rd.libs[library]
	if !ok {
		l, err := bibstat.ParseLibraryID(library)
		if err != nil {
			return isBad, "library is not a library number"
		}
		if len(rd.libs) < maxCached {
			// A copy: library may point into the whole line.
			rd.libs[strings.Clone(library)] = bibstat.LibraryID(strings.Clone(string(l)))
		}
		lib = l
	}
	if strings.ContainsAny(ev.Item, "\t\n\r") || strings.ContainsAny(ev.Title, "\t\n\r") {
		return isBad, "item key holds a control character"
	}
	ev.Time = t.UTC().Truncate(time.Second)
	ev.User = rd.keys.Pseudonym("user", user)
	ev.Session = rd.keys.Pseudonym("session", session)
	ev.Library = lib
	return isEvent, ""
}

// fromURL recognises platform, kind and keys from a URL; false if it is
// no usage of a declared platform.
func (rd *Reader) fromURL(u string, ev *Event) bool {
	rest, ok := strings.CutPrefix(u, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(u, "http://"); !ok {
			return false
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
	p := rd.byHost[host]
	if p == nil {
		p = rd.byHost[strings.ToLower(host)]
	}
	if p == nil {
		return false
	}
	kind, item, title, ok := p.match(path)
	if !ok {
		return false
	}
	ev.Platform, ev.Kind, ev.Item, ev.Title = p.ID, kind, item, title
	return true
}
