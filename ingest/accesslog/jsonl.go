package accesslog

import (
	"encoding/json"
	"strconv"
	"time"
)

// jsonLine reads one single sign-on event: a JSON object with the fields
// the source names.
func (p *parser) jsonLine(b []byte, ev *Event) (outcome, string) {
	clear(p.jsonbuf)
	if p.jsonbuf == nil {
		p.jsonbuf = map[string]any{}
	}
	if err := json.Unmarshal(b, &p.jsonbuf); err != nil {
		return isBad, "not a JSON object"
	}
	fl := &p.rd.src.Fields
	get := func(k string) (string, bool) { return jsonField(p.jsonbuf, k) }
	ts, ok := get(fl.Time)
	t, err := time.Parse(time.RFC3339, ts)
	if !ok || err != nil {
		return isBad, "time is not RFC 3339"
	}
	agent, ok := get(fl.Agent)
	if !ok {
		return isBad, "agent is not a string"
	}
	if fl.Agent != "" && p.robots.isRobot([]byte(agent)) {
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
		m := p.matchURL([]byte(url))
		if !m.ok {
			return isIgnored, ""
		}
		ev.Platform, ev.Kind, ev.Item, ev.Title = m.platform, m.kind, m.item, m.title
		return p.finish(ev, t, []byte(user), []byte(session), []byte(library))
	}
	svc, ok1 := get(fl.Service)
	name, ok2 := get(fl.Event)
	item, ok3 := get(fl.Item)
	title, ok4 := get(fl.Title)
	if !(ok1 && ok2 && ok3 && ok4) {
		return isBad, "service, event, item or title is not a string"
	}
	pl := p.rd.bySvc[svc]
	if pl == nil {
		return isIgnored, ""
	}
	kind, ok := pl.Events[name]
	if !ok {
		return isIgnored, ""
	}
	if kind != Search && item == "" {
		return isBad, "a " + string(kind) + " event without an item"
	}
	ev.Platform, ev.Kind, ev.Item, ev.Title = pl.ID, kind, item, title
	if kind == Search && item == "" {
		ev.Item = p.keys.Pseudonym("search", ts+"\x00"+user+session)[:16]
	}
	return p.finish(ev, t, []byte(user), []byte(session), []byte(library))
}

// jsonField is the text of an event's field k ("" when the source names
// none, or the line has none or null), and false when it is not text: a
// library number written as a whole number reads as its digits.
func jsonField(obj map[string]any, k string) (string, bool) {
	if k == "" {
		return "", true
	}
	switch v := obj[k].(type) {
	case nil:
		return "", true
	case string:
		return v, true
	case float64:
		if v == float64(int64(v)) {
			return strconv.FormatInt(int64(v), 10), true
		}
	}
	return "", false
}
