package ingest

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestGatePace checks what the run's Pace says of each request: how long
// after its turn (the later of the previous start plus the spacing and the
// previous answer) it reached the gate, its coarse wait there ended and
// its write returned.
func TestGatePace(t *testing.T) {
	const spacing = 20 * time.Millisecond
	ms := time.Millisecond
	clk := &fakeClock{t: time.Unix(1e9, 0), coarse: 2 * ms}
	g := &hostGate{ctx: context.Background(), clk: clk, spacing: spacing}
	request := func(build, write, answer time.Duration) {
		clk.advance(build)
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		clk.advance(write)
		g.Sent()
		clk.advance(answer)
		g.answered()
	}
	request(0, ms, 5*ms)   // the first: no turn, not counted
	request(2*ms, ms, 0)   // written at 1, answered at 6: reached at 8 of its turn at 21, written at 22
	request(0, 0, 30*ms)   // reached at 22 of 42, written at 42, answered at 72
	request(3*ms, 2*ms, 0) // its turn is the answer (72, not 62): reached at 75, written at 77
	if want := []time.Duration{ms, 0, 5 * ms}; !slices.Equal(g.pace.Wrote, want) {
		t.Errorf("wrote %v, want %v", g.pace.Wrote, want)
	}
	if want := []time.Duration{-13 * ms, -20 * ms, 3 * ms}; !slices.Equal(g.pace.Reached, want) {
		t.Errorf("reached %v, want %v", g.pace.Reached, want)
	}
	// The coarse wait ends 2 ms before the turn, or at once when the
	// request reached the gate later.
	if want := []time.Duration{-2 * ms, -2 * ms, 3 * ms}; !slices.Equal(g.pace.Woke, want) {
		t.Errorf("woke %v, want %v", g.pace.Woke, want)
	}
}
