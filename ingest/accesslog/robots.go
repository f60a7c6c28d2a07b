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
// are cached. Not safe for concurrent use.
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
	v := r.re.MatchString(agent)
	if len(r.cache) >= maxCached {
		clear(r.cache)
	}
	r.cache[agent] = v
	return v
}
