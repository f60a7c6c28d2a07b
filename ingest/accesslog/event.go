package accesslog

import (
	"bufio"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
)

// Event is one recognised line, minimised: all that is kept of it. One
// from a Reader carries hashes of its keys for the Counter: to count
// another event, make a new Event rather than change a read one's fields.
type Event struct {
	Time     time.Time // UTC, to the second
	User     string    // pseudonym of the user, or ""
	Session  string    // pseudonym of the log's session id, or ""
	Library  bibstat.LibraryID
	Platform string
	Kind     Kind
	Item     string // item key ("" for a search)
	Title    string // title key, when the platform has titles
	sums     sums
}

// eventsHeader starts every archived events file; its version is the
// format's, bumped if a column changes.
const eventsHeader = "#bibstat-accesslog-events v1: time,user,session,library,platform,kind,item,title"

// EventWriter writes Events in the archive's format: CSV-like lines with
// the fields tab-separated (none of them may hold a tab or newline: keys
// from URLs are cleaned by the reader).
type EventWriter struct {
	w   *bufio.Writer
	buf []byte
	n   int64
}

// NewEventWriter starts an events file on w, noting the key of the
// archived declaration that read the events (if any) in a comment line.
func NewEventWriter(w io.Writer, configKey string) (*EventWriter, error) {
	ew := &EventWriter{w: bufio.NewWriterSize(w, 64<<10)}
	head := eventsHeader + "\n"
	if configKey != "" {
		head += "#config " + configKey + "\n"
	}
	if _, err := ew.w.WriteString(head); err != nil {
		return nil, fmt.Errorf("write events: %w", err)
	}
	return ew, nil
}

// Write appends ev.
func (ew *EventWriter) Write(ev *Event) error {
	b := ew.buf[:0]
	b = strconv.AppendInt(b, ev.Time.Unix(), 10)
	for _, s := range [...]string{ev.User, ev.Session, string(ev.Library), ev.Platform, string(ev.Kind), ev.Item, ev.Title} {
		b = append(b, '\t')
		b = append(b, s...)
	}
	b = append(b, '\n')
	ew.buf = b
	ew.n++
	if _, err := ew.w.Write(b); err != nil {
		return fmt.Errorf("write events: %w", err)
	}
	return nil
}

// Events is how many events were written.
func (ew *EventWriter) Events() int64 { return ew.n }

// Flush writes what is buffered.
func (ew *EventWriter) Flush() error {
	if err := ew.w.Flush(); err != nil {
		return fmt.Errorf("write events: %w", err)
	}
	return nil
}

// ErrEvents marks an archived events file that cannot be read back.
var ErrEvents = errors.New("bad events file")

// ReadEvents reads an events file written by EventWriter, calling fn for
// each event (ev is reused).
func ReadEvents(r io.Reader, fn func(ev *Event) error) error {
	es, err := newEventScanner(r)
	if err != nil {
		return err
	}
	for {
		ev, err := es.next()
		if ev == nil || err != nil {
			return err
		}
		if err := fn(ev); err != nil {
			return err
		}
	}
}

// eventScanner reads an events file one event at a time.
type eventScanner struct {
	sc *bufio.Scanner
	n  int
	ev Event
}

func newEventScanner(r io.Reader) (*eventScanner, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	if !sc.Scan() || sc.Text() != eventsHeader {
		return nil, fmt.Errorf("read events: %w: no header %q", ErrEvents, eventsHeader)
	}
	return &eventScanner{sc: sc, n: 1}, nil
}

// next returns the next event (reused), or nil at the end.
func (es *eventScanner) next() (*Event, error) {
	for es.sc.Scan() {
		es.n++
		if strings.HasPrefix(es.sc.Text(), "#") {
			continue
		}
		f := strings.Split(es.sc.Text(), "\t")
		if len(f) != 8 {
			return nil, fmt.Errorf("read events line %d: %w: %d fields", es.n, ErrEvents, len(f))
		}
		sec, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("read events line %d: %w: time", es.n, ErrEvents)
		}
		k := Kind(f[5])
		if checkKind(k) != nil {
			return nil, fmt.Errorf("read events line %d: %w: kind", es.n, ErrEvents)
		}
		es.ev = Event{Time: time.Unix(sec, 0).UTC(), User: f[1], Session: f[2], Library: bibstat.LibraryID(f[3]),
			Platform: f[4], Kind: k, Item: f[6], Title: f[7]}
		return &es.ev, nil
	}
	if err := es.sc.Err(); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return nil, nil
}

// sums are hashes of an Event's keys that a Counter looks up. The Reader's
// workers make them, beside the Counter, so that its goroutine (the
// pipeline's slowest) does not hash; a Counter makes them for an event
// without (ok false).
type sums struct {
	who, item, title uint64
	ok               bool
}

// sumSeed seeds the sums: one for the process, as they never leave it.
var sumSeed = maphash.MakeSeed()

// sumsOf makes ev's sums. who is the person's: the user, or else the
// session (told apart from a user of the same name).
func sumsOf(ev *Event) sums {
	who := maphash.String(sumSeed, ev.User)
	if ev.User == "" {
		who = maphash.String(sumSeed, ev.Session) ^ 0x9e3779b97f4a7c15
	}
	return sums{who: who, item: maphash.String(sumSeed, ev.Item), title: maphash.String(sumSeed, ev.Title), ok: true}
}
