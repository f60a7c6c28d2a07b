package accesslog

import (
	"fmt"
	"strings"
)

// Reader reads one source's lines into Events. Not safe for concurrent
// use: one Read at a time (which reads with several workers of its own).
type Reader struct {
	src       *Source
	keys      *Keyring
	robots    *Robots
	byHost    map[string]*Platform
	bySvc     map[string]*Platform
	extra     [3]int    // combined: which field holds user, library, session
	blockSize int       // 0: defaultBlockSize
	parsers   []*parser // one a worker, kept for their caches
}

// NewReader returns a Reader of source src under c.
func NewReader(c *Config, src *Source, keys *Keyring, robots *Robots) *Reader {
	rd := &Reader{src: src, keys: keys, robots: robots, byHost: map[string]*Platform{}, bySvc: map[string]*Platform{}}
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
