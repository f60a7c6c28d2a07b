package accesslog

import (
	"strconv"
	"strings"
	"time"
)

// The fields of a combined line, in order; extra fields follow the agent.
const (
	fHost = iota
	fIdent
	fUser
	fTime
	fRequest
	fStatus
	fBytes
	fReferer
	fAgent
	fExtra // first extra field
)

// combinedField is the index of a named field ("" and unknown names: -1).
func combinedField(name string) (int, bool) {
	switch name {
	case "host":
		return fHost, true
	case "ident":
		return fIdent, true
	case "authuser":
		return fUser, true
	}
	if n, ok := strings.CutPrefix(name, "extra"); ok {
		if i, err := strconv.Atoi(n); err == nil && i >= 1 && i <= 16 {
			return fExtra + i - 1, true
		}
	}
	return -1, false
}

// combinedLine reads `host ident authuser [time] "request" status bytes
// "referer" "agent" extra…`.
func (rd *Reader) combinedLine(s string, ev *Event) (outcome, string) {
	f, ok := splitCombined(s, rd.fields[:0])
	rd.fields = f
	if !ok || len(f) <= fAgent {
		return isBad, "not the combined log format"
	}
	t, ok := parseCLFTime(f[fTime])
	if !ok {
		return isBad, "time is not dd/Mon/yyyy:hh:mm:ss ±zzzz"
	}
	agent := f[fAgent]
	if rd.robots.IsRobot(agent) {
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
	// Only successful page views are usage (CoP 7.1: 200 and 304); a
	// POST of a search form is one too.
	if (status != 200 && status != 304) || (method != "GET" && method != "POST") {
		return isIgnored, ""
	}
	*ev = Event{}
	if !rd.fromURL(url, ev) {
		return isIgnored, ""
	}
	if ev.Kind == Search && ev.Item == "" {
		ev.Item = rd.keys.Pseudonym("search", url)[:16]
	}
	return rd.finish(ev, t, rd.pick(f, 0), rd.pick(f, 2), rd.pick(f, 1))
}

// pick returns the configured field i (user, library, session), "" for "-".
func (rd *Reader) pick(f []string, i int) string {
	j := rd.extra[i]
	if j < 0 || j >= len(f) || f[j] == "-" {
		return ""
	}
	return f[j]
}

// splitCombined splits a line into fields: plain words, [bracketed] or
// "quoted" (with \" escapes, left escaped: no key needs them undone).
func splitCombined(s string, out []string) ([]string, bool) {
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

var monthAbbr = map[string]time.Month{"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6,
	"Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12}

// parseCLFTime parses 02/Jan/2006:15:04:05 -0700 by hand: time.Parse was a
// fifth of the cost of a line.
func parseCLFTime(s string) (time.Time, bool) {
	if len(s) != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' || s[20] != ' ' {
		return time.Time{}, false
	}
	num := func(a, b int) (int, bool) {
		n := 0
		for _, c := range []byte(s[a:b]) {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	day, ok1 := num(0, 2)
	mon, ok2 := monthAbbr[s[3:6]]
	year, ok3 := num(7, 11)
	hh, ok4 := num(12, 14)
	mm, ok5 := num(15, 17)
	ss, ok6 := num(18, 20)
	zh, ok7 := num(22, 24)
	zm, ok8 := num(24, 26)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && ok8) || (s[21] != '+' && s[21] != '-') ||
		day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || zh > 14 || zm > 59 {
		return time.Time{}, false
	}
	off := (zh*60 + zm) * 60
	if s[21] == '-' {
		off = -off
	}
	t := time.Date(year, mon, day, hh, mm, ss, 0, time.UTC)
	if t.Day() != day { // 31 Feb and the like: time.Date normalised it
		return time.Time{}, false
	}
	return t.Add(-time.Duration(off) * time.Second), true
}
