package ledger

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
)

// TestEntrySetRoundTrip: whatever entry is stored comes back as it went
// in, field by field, times in their own zone (the journal's reading of
// them), and a unit never stored is not found.
func TestEntrySetRoundTrip(t *testing.T) {
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		oslo = time.FixedZone("CET", 3600)
	}
	zones := []*time.Location{time.UTC, time.Local, oslo, time.FixedZone("", -5*3600)}
	pick := func(r *rand.Rand, xs ...string) string { return xs[r.IntN(len(xs))] }
	at := func(r *rand.Rand) time.Time {
		if r.IntN(4) == 0 {
			return time.Time{}
		}
		return time.Unix(1.7e9+r.Int64N(1e8), r.Int64N(1e9)).In(zones[r.IntN(len(zones))])
	}
	r := rand.New(rand.NewPCG(1, 2))
	s := newEntrySet()
	want := map[bibstat.Unit]Entry{}
	for range 2000 {
		e := Entry{Platform: pick(r, "avis", "ebok", "p"), Credential: pick(r, "2030100", "2120100", "x/y"),
			Library: bibstat.LibraryID(pick(r, "", "2030100")), Report: bibstat.ReportID(pick(r, "pr", "tr", "dr")),
			Month: pick(r, "2025-01", "2025-12", "2024-07", "bad"), State: bibstat.State(pick(r, "ok", "zero", "failed", "")),
			Attempts: r.IntN(9), LastError: pick(r, "", "sushi exception 3030 No Usage", "timeout"),
			Code: r.IntN(4000), HTTPStatus: r.IntN(600), CredFP: pick(r, "", "0123456789abcdef"),
			NextAttempt: at(r), UpdatedAt: at(r)}
		m, _ := bibstat.ParseMonth(e.Month)
		u := bibstat.Unit{Platform: e.Platform, Credential: e.Credential, Report: e.Report, Month: m}
		switch r.IntN(3) {
		case 0:
			e.RawKey = u.RawKey(e.UpdatedAt, "json")
		case 1:
			e.RawKey = "raw/upload/elsewhere/" + e.Month + ".json"
		}
		s.put(&e)
		want[e.Unit()] = e
	}
	if s.len() != len(want) {
		t.Fatalf("%d entries, want %d", s.len(), len(want))
	}
	for u, w := range want {
		got, ok := s.get(u)
		if !ok {
			t.Fatalf("%s: not found", u)
		}
		if !got.NextAttempt.Equal(w.NextAttempt) || !got.UpdatedAt.Equal(w.UpdatedAt) ||
			got.UpdatedAt.Location().String() != w.UpdatedAt.Location().String() {
			t.Errorf("%s: times %v %v, want %v %v", u, got.NextAttempt, got.UpdatedAt, w.NextAttempt, w.UpdatedAt)
		}
		got.NextAttempt, got.UpdatedAt, w.NextAttempt, w.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s: got %+v, want %+v", u, got, w)
		}
	}
	n := 0
	s.each(func(e *Entry) {
		n++
		a, _ := json.Marshal(e)
		b, _ := json.Marshal(want[e.Unit()])
		if string(a) != string(b) {
			t.Errorf("each: %s, want %s", a, b)
		}
	})
	if n != len(want) {
		t.Errorf("each saw %d entries, want %d", n, len(want))
	}
	if _, ok := s.get(bibstat.Unit{Platform: "nowhere", Credential: "2030100", Report: "pr", Month: bibstat.Month{Year: 2025, Mon: 1}}); ok {
		t.Error("found a unit never stored")
	}
}
