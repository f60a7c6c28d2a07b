package accesslog

import (
	"bufio"
	_ "embed"
	"fmt"
	"regexp"
	"strings"
)

// robotsList is COUNTER's robots list (robots/SOURCE.md says whence).
//
//go:embed robots/COUNTER_Robots_list.txt
var robotsList string

// Robots tells robots and crawlers from patrons by user agent. Matching
// the whole list is slow, and a log holds few distinct agents, so answers
// are cached: IsRobot's cache is not safe for concurrent use (a Reader's
// workers each keep their own and share only the compiled list).
type Robots struct {
	re    *regexp.Regexp
	cache map[string]bool
}

// NewRobots compiles a list in the COUNTER format: one regular expression a
// line, matched case-insensitively anywhere in the agent; blank lines and
// lines starting with # are skipped.
func NewRobots(list string) (*Robots, error) {
	var alts []string
	sc := bufio.NewScanner(strings.NewReader(list))
	for n := 1; sc.Scan(); n++ {
		p := strings.TrimSpace(sc.Text())
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		if _, err := regexp.Compile(p); err != nil {
			return nil, fmt.Errorf("robots list line %d: %w", n, err)
		}
		alts = append(alts, "(?:"+p+")")
	}
	re, err := regexp.Compile("(?i)" + strings.Join(alts, "|"))
	if err != nil {
		return nil, fmt.Errorf("robots list: %w", err)
	}
	return &Robots{re: re, cache: map[string]bool{}}, nil
}

// COUNTERRobots is the COUNTER list kept in this package.
func COUNTERRobots() (*Robots, error) { return NewRobots(robotsList) }

// IsRobot reports whether agent is a robot's. An empty agent is one (the
// list's ^.?$).
func (r *Robots) IsRobot(agent string) bool {
	if v, ok := r.cache[agent]; ok {
		return v
	}
	v := r.match(agent)
	if len(r.cache) >= maxCached {
		clear(r.cache)
	}
	r.cache[agent] = v
	return v
}

// match matches agent against the list, uncached; safe for concurrent use.
func (r *Robots) match(agent string) bool { return r.re.MatchString(agent) }

// robotCache is one worker's cache of IsRobot answers, keyed by the agent.
type robotCache struct {
	r *Robots
	m map[string]bool
}

func (c *robotCache) isRobot(agent []byte) bool {
	if v, ok := c.m[string(agent)]; ok {
		return v
	}
	s := string(agent)
	v := c.r.match(s)
	if c.m == nil || len(c.m) >= maxCached {
		c.m = make(map[string]bool, 256)
	}
	c.m[s] = v
	return v
}
