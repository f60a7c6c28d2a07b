package accesslog

import (
	"bytes"
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
// "referer" "agent" extra…`. It works on the line's bytes in place: the
// strings an Event keeps come from the parser's caches, never the line.
func (p *parser) combinedLine(b []byte, ev *Event) (outcome, string) {
	f, ok := splitCombined(b, p.fields[:0])
	p.fields = f
	if !ok || len(f) <= fAgent {
		return isBad, "not the combined log format"
	}
	t, ok := p.clfTime(f[fTime])
	if !ok {
		return isBad, "time is not dd/Mon/yyyy:hh:mm:ss ±zzzz"
	}
	if p.robots.isRobot(f[fAgent]) {
		return isRobot, ""
	}
	status, ok := atoi(f[fStatus])
	if !ok {
		return isBad, "status is not a number"
	}
	method, rest, ok1 := bytes.Cut(f[fRequest], []byte{' '})
	url, _, ok2 := bytes.Cut(rest, []byte{' '})
	if !ok1 || !ok2 {
		return isBad, "request is not METHOD URL PROTOCOL"
	}
	// Only successful page views are usage (CoP 7.1: 200 and 304); a
	// POST of a search form is one too.
	if (status != 200 && status != 304) || (string(method) != "GET" && string(method) != "POST") {
		return isIgnored, ""
	}
	m := p.matchURL(url)
	if !m.ok {
		return isIgnored, ""
	}
	*ev = Event{Platform: m.platform, Kind: m.kind, Item: m.item, Title: m.title}
	return p.finish(ev, t, p.pick(f, 0), p.pick(f, 2), p.pick(f, 1))
}

// pick returns the configured field i (user, library, session), nil for "-".
func (p *parser) pick(f [][]byte, i int) []byte {
	j := p.rd.extra[i]
	if j < 0 || j >= len(f) || string(f[j]) == "-" {
		return nil
	}
	return f[j]
}

// splitCombined splits a line into fields: plain words, [bracketed] or
// "quoted" (with \" escapes, left escaped: no key needs them undone).
func splitCombined(s []byte, out [][]byte) ([][]byte, bool) {
	for i := 0; i < len(s); {
		switch s[i] {
		case ' ':
			i++
		case '[':
			j := bytes.IndexByte(s[i:], ']')
			if j < 0 {
				return out, false
			}
			out = append(out, s[i+1:i+j])
			i += j + 1
		case '"':
			q, ok := closingQuote(s, i)
			if !ok {
				return out, false
			}
			out = append(out, s[i+1:q])
			i = q + 1
		default:
			j := bytes.IndexByte(s[i:], ' ')
			if j < 0 {
				j = len(s) - i
			}
			out = append(out, s[i:i+j])
			i += j
		}
	}
	return out, true
}

// closingQuote finds the quote that closes the one at s[open]: the first
// not escaped, that is not after an odd run of backslashes (a backslash
// escapes whatever follows it, a backslash too).
func closingQuote(s []byte, open int) (int, bool) {
	for from := open + 1; ; {
		k := bytes.IndexByte(s[from:], '"')
		if k < 0 {
			return 0, false
		}
		q := from + k
		n := 0
		for q-1-n > open && s[q-1-n] == '\\' {
			n++
		}
		if n%2 == 0 {
			return q, true
		}
		from = q + 1
	}
}

// atoi is strconv.Atoi without a string for the common case of a few digits.
func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		n, err := strconv.Atoi(string(b))
		return n, err == nil
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			n, err := strconv.Atoi(string(b)) // a sign, or not a number
			return n, err == nil
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// clfTime parses 02/Jan/2006:15:04:05 -0700. Lines in time order share
// their minute, so the minute's start is kept and a line of the same
// minute and zone costs a comparison and two digits.
func (p *parser) clfTime(s []byte) (time.Time, bool) {
	if len(s) == 26 && s[17] == ':' && s[20] == ' ' && p.minuteOK &&
		string(s[:17]) == string(p.minute[:17]) && string(s[21:]) == string(p.minute[17:]) {
		if a, b := s[18], s[19]; a >= '0' && a <= '5' && b >= '0' && b <= '9' {
			return p.minuteAt.Add(time.Duration(int(a-'0')*10+int(b-'0')) * time.Second), true
		}
	}
	t, ok := parseCLFTime(s)
	// Second 60 may roll the minute over (or the day, which makes it
	// bad): only a line of seconds 00–59 sets the cached minute.
	if ok && s[18] <= '5' {
		p.minuteOK = true
		copy(p.minute[:17], s[:17])
		copy(p.minute[17:], s[21:])
		p.minuteAt = t.Add(-time.Duration(int(s[18]-'0')*10+int(s[19]-'0')) * time.Second)
	}
	return t, ok
}

// parseCLFTime parses 02/Jan/2006:15:04:05 -0700 by hand: time.Parse was a
// fifth of the cost of a line.
func parseCLFTime(s []byte) (time.Time, bool) {
	if len(s) != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' || s[20] != ' ' {
		return time.Time{}, false
	}
	num := func(a, b int) (int, bool) {
		n := 0
		for _, c := range s[a:b] {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	day, ok1 := num(0, 2)
	mon, ok2 := monthAbbr(s[3:6])
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

func monthAbbr(b []byte) (time.Month, bool) {
	switch string(b) {
	case "Jan":
		return time.January, true
	case "Feb":
		return time.February, true
	case "Mar":
		return time.March, true
	case "Apr":
		return time.April, true
	case "May":
		return time.May, true
	case "Jun":
		return time.June, true
	case "Jul":
		return time.July, true
	case "Aug":
		return time.August, true
	case "Sep":
		return time.September, true
	case "Oct":
		return time.October, true
	case "Nov":
		return time.November, true
	case "Dec":
		return time.December, true
	}
	return 0, false
}
