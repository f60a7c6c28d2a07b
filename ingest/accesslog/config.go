package accesslog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/bibliotek24/bibstat"
)

// Config declares how access logs are read and what they mean: the sources
// (log formats) and the platforms recognised in them.
type Config struct {
	Sources   []Source   `yaml:"sources"`
	Platforms []Platform `yaml:"platforms"`

	raw []byte // the YAML as read, archived with the events it reads
}

// Raw is the YAML the Config was parsed from.
func (c *Config) Raw() []byte { return c.raw }

// Source is one kind of log. Kind "combined" is the Apache/NGINX combined
// format, optionally followed by extra fields (quoted or not), as EZproxy
// writes them; kind "jsonl" is one JSON object a line.
type Source struct {
	Name string `yaml:"name"`
	Kind string `yaml:"kind"` // "combined" or "jsonl"
	// Fields names where each datum is. For "combined": host, ident,
	// authuser, or extraN (the Nth field after the user agent, from 1).
	// For "jsonl": the JSON key (a string; time is RFC 3339).
	Fields Fields `yaml:"fields"`
}

// Fields maps the data a source carries to where they are in a line.
type Fields struct {
	User    string `yaml:"user"`
	Library string `yaml:"library"`
	Session string `yaml:"session"`
	// jsonl only: time (default "time"), the service (the platform's
	// services), the URL, the event name (the platform's events), the item
	// and title keys of an event, and the user agent.
	Time    string `yaml:"time"`
	Service string `yaml:"service"`
	URL     string `yaml:"url"`
	Event   string `yaml:"event"`
	Item    string `yaml:"item"`
	Title   string `yaml:"title"`
	Agent   string `yaml:"agent"`
}

// Platform is one service, recognised by host (proxy) or service name (SSO).
type Platform struct {
	ID       string   `yaml:"id"`
	Hosts    []string `yaml:"hosts"`
	Services []string `yaml:"services"`
	// DataType is the COUNTER Data_Type of its items (default "Database").
	DataType string `yaml:"data_type"`
	Rules    []Rule `yaml:"rules"`
	// Events maps an SSO event name to a kind; the item and title come
	// from the source's item and title fields.
	Events map[string]Kind `yaml:"events"`
}

// Rule recognises one kind of event from a URL path (with its query). The
// named groups "item" and "title" give the item and title keys; a search
// needs neither, an investigation or request needs an item.
type Rule struct {
	Kind Kind   `yaml:"kind"`
	Path string `yaml:"path"` // a regular expression (RE2), matched against path?query

	re    *regexp.Regexp
	item  int
	title int
}

// Kind is what a recognised event is.
type Kind string

// The event kinds COUNTER distinguishes.
const (
	Search        Kind = "search"
	Investigation Kind = "investigation"
	Request       Kind = "request"
)

// ErrConfig marks a configuration that cannot be used.
var ErrConfig = errors.New("access-log configuration")

// ParseConfig reads a Config from YAML, strictly: an unknown key is an error.
func ParseConfig(r io.Reader) (*Config, error) {
	b, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read access-log config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("parse access-log config: %w: %w", ErrConfig, err)
	}
	if err := c.compile(); err != nil {
		return nil, err
	}
	c.raw = b
	return &c, nil
}

func (c *Config) compile() error {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(f, a...)) }
	seen := map[string]bool{}
	for i := range c.Sources {
		s := &c.Sources[i]
		if s.Name == "" || seen["source "+s.Name] {
			return bad("source %d: missing or repeated name %q", i+1, s.Name)
		}
		seen["source "+s.Name] = true
		switch s.Kind {
		case "combined":
			for _, f := range []string{s.Fields.User, s.Fields.Library, s.Fields.Session} {
				if _, ok := combinedField(f); f != "" && !ok {
					return bad("source %s: field %q: want host, ident, authuser or extraN", s.Name, f)
				}
			}
		case "jsonl":
			if s.Fields.Time == "" {
				s.Fields.Time = "time"
			}
		default:
			return bad("source %s: kind %q: want combined or jsonl", s.Name, s.Kind)
		}
		if s.Fields.User == "" && s.Fields.Session == "" {
			return bad("source %s: needs a user or a session field: sessions and unique counts need one", s.Name)
		}
		if s.Fields.Library == "" {
			return bad("source %s: needs a library field", s.Name)
		}
	}
	for i := range c.Platforms {
		p := &c.Platforms[i]
		if err := bibstat.CheckSegment(p.ID); err != nil || seen["platform "+p.ID] {
			return bad("platform %d: bad or repeated id %q", i+1, p.ID)
		}
		seen["platform "+p.ID] = true
		if p.DataType == "" {
			p.DataType = "Database"
		}
		for _, h := range p.Hosts {
			if seen["host "+strings.ToLower(h)] {
				return bad("platform %s: host %s is declared twice", p.ID, h)
			}
			seen["host "+strings.ToLower(h)] = true
		}
		for j := range p.Rules {
			r := &p.Rules[j]
			if err := checkKind(r.Kind); err != nil {
				return bad("platform %s rule %d: %v", p.ID, j+1, err)
			}
			re, err := regexp.Compile(r.Path)
			if err != nil {
				return bad("platform %s rule %d: %v", p.ID, j+1, err)
			}
			r.re, r.item, r.title = re, re.SubexpIndex("item"), re.SubexpIndex("title")
			if r.Kind != Search && r.item < 0 {
				return bad("platform %s rule %d: a %s needs an (?P<item>…) group", p.ID, j+1, r.Kind)
			}
		}
		for name, k := range p.Events {
			if err := checkKind(k); err != nil {
				return bad("platform %s event %s: %v", p.ID, name, err)
			}
		}
	}
	return nil
}

func checkKind(k Kind) error {
	switch k {
	case Search, Investigation, Request:
		return nil
	}
	return fmt.Errorf("kind %q: want search, investigation or request", k)
}

// Source returns the source named name.
func (c *Config) Source(name string) (*Source, error) {
	for i := range c.Sources {
		if c.Sources[i].Name == name {
			return &c.Sources[i], nil
		}
	}
	return nil, fmt.Errorf("%w: no source %q", ErrConfig, name)
}

// match finds the rule a path matches: the first that does.
func (p *Platform) match(path string) (Kind, string, string, bool) {
	for i := range p.Rules {
		r := &p.Rules[i]
		m := r.re.FindStringSubmatchIndex(path)
		if m == nil {
			continue
		}
		return r.Kind, group(path, m, r.item), group(path, m, r.title), true
	}
	return "", "", "", false
}

func group(s string, m []int, i int) string {
	if i < 0 || 2*i+1 >= len(m) || m[2*i] < 0 {
		return ""
	}
	return s[m[2*i]:m[2*i+1]]
}
