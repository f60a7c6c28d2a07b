package accesslog_test

import (
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/accesslog"
)

// TestWindowKeepsASessionsUniques: with a window, a session's clicks are
// decided and its sessions forgotten in steps; an item seen again in the
// same session is still counted once, however the steps fall.
func TestWindowKeepsASessionsUniques(t *testing.T) {
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	ev := func(tm time.Time, user, session, item string) accesslog.Event {
		return accesslog.Event{Time: tm, User: user, Session: session, Library: "2030100", Platform: "p",
			Kind: accesslog.Investigation, Item: item}
	}
	for _, tc := range []struct {
		name string
		evs  []accesslog.Event
	}{
		{"a day's session: the first click decided long before the second", []accesslog.Event{
			ev(at(10, 0), "u", "s", "x"), ev(at(12, 0), "v", "", "y"), ev(at(14, 0), "u", "s", "x"), ev(at(16, 0), "v", "", "y"),
		}},
		{"an hour's session forgotten with a click of it undecided", []accesslog.Event{
			ev(at(10, 0), "u", "", "x"), ev(at(10, 40), "w", "", "z"), ev(at(11, 20), "v", "", "y"),
			ev(at(10, 50), "u", "", "x"), ev(at(12, 1), "q", "", "y"),
		}},
	} {
		want := accesslog.NewCounter(0)
		got := accesslog.NewCounter(time.Hour)
		for i := range tc.evs {
			if err := want.Add(&tc.evs[i]); err != nil {
				t.Fatal(err)
			}
			if err := got.Add(&tc.evs[i]); err != nil {
				t.Fatalf("%s: event %d: %v", tc.name, i, err)
			}
		}
		w, g := want.Finish(), got.Finish()
		u := accesslog.UnitKey{Platform: "p", Library: "2030100", Month: bibstat.MonthOf(day)}
		if wu := w[u]; wu.Get(accesslog.UniqueItemInvestigations) == wu.Get(accesslog.TotalItemInvestigations) {
			t.Fatalf("%s: no item repeats in a session: %v", tc.name, w[u])
		}
		if len(g) != len(w) || g[u] != w[u] {
			t.Errorf("%s: window 1h counts %v, want %v", tc.name, g, w)
		}
	}
}
