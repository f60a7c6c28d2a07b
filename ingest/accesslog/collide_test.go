package accesslog

import (
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
)

// TestPeopleWhoseHashesCollide: two people with the same sums.who are
// still two people, while both have clicks and after either is done.
func TestPeopleWhoseHashesCollide(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	ev := func(sec int, user string) Event {
		e := Event{Time: t0.Add(time.Duration(sec) * time.Second), User: user, Library: "2030100", Platform: "p",
			Kind: Investigation, Item: "x"}
		e.sums = sumsOf(&e)
		e.sums.who = 42
		return e
	}
	// a and b click the same item 5 s apart (no double click: two people),
	// then again hours later, once the first clicks are decided.
	// c, of another hash, comes between, so that a and b are done.
	c := ev(3*3600, "c")
	c.sums = sumsOf(&c)
	evs := []Event{ev(0, "a"), ev(5, "b"), ev(10, "a"), c, ev(4*3600, "b"), ev(4*3600+5, "a"), ev(4*3600+10, "b")}
	for _, window := range []time.Duration{0, time.Hour} {
		cn := NewCounter(window)
		for i := range evs {
			if err := cn.Add(&evs[i]); err != nil {
				t.Fatal(err)
			}
		}
		u := UnitKey{Platform: "p", Library: "2030100", Month: bibstat.MonthOf(t0)}
		got := cn.Finish()[u]
		// a: 0 and 10 is a double click; b: 4 h and 4 h 10 s too.
		if n := got.Get(TotalItemInvestigations); n != 5 {
			t.Errorf("window %v: %d investigations, want 5 (%v)", window, n, got)
		}
	}
}
