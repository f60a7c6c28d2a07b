package ingest

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/sushi"
)

// fakeClock is a wait clock whose sleeps return at once, moving it on;
// a sleep's coarse part ends coarse before its end.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	coarse time.Duration
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *fakeClock) sleepUntil(ctx context.Context, t time.Time, woke func()) error {
	if woke != nil {
		c.mu.Lock()
		if w := t.Add(-c.coarse); w.After(c.t) {
			c.t = w
		}
		c.mu.Unlock()
		woke()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.t) {
		c.t = t
	}
	return ctx.Err()
}

func (c *fakeClock) early() time.Duration { return 0 }

// slowFetcher answers through inner, but on the fake clock each answer
// takes latency(i) to come; it notes when each request started and its
// answer was done.
type slowFetcher struct {
	inner        Fetcher
	clk          *fakeClock
	latency      func(i int) time.Duration
	starts, done []time.Time
}

func (f *slowFetcher) Report(ctx context.Context, c sushi.Credential, report bibstat.ReportID, begin, end bibstat.Month) (*sushi.Response, error) {
	f.starts = append(f.starts, f.clk.now())
	resp, err := f.inner.Report(ctx, c, report, begin, end)
	f.clk.advance(f.latency(len(f.done)))
	f.done = append(f.done, f.clk.now())
	return resp, err
}

// TestSpacingStartToStart: on a fake clock, each request starts at the
// later of the previous start plus the spacing and the previous answer
// done, whether answers are fast, slow or both.
func TestSpacingStartToStart(t *testing.T) {
	const spacing = 40 * time.Millisecond
	for _, tc := range []struct {
		name    string
		latency func(i int) time.Duration
	}{
		{"fast", func(int) time.Duration { return time.Millisecond }},
		{"as long as the spacing", func(int) time.Duration { return spacing }},
		{"slow", func(int) time.Duration { return 3 * spacing }},
		{"mixed", func(i int) time.Duration {
			return []time.Duration{0, 5 * spacing, spacing / 2, 39 * time.Millisecond, 41 * time.Millisecond}[i%5]
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, "5.1")
			clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			// No 300 ms timeout as the rig's: the answers' time here is the fake clock's.
			f := &slowFetcher{inner: &sushi.Client{}, clk: clk, latency: tc.latency}
			r.h.Fetcher, r.h.wait, r.h.Spacing = f, clk, spacing
			months := bibstat.MonthsBetween(jan, bibstat.Month{Year: 2025, Mon: 12})
			sum, err := r.h.Run(context.Background(), r.jobs("2030100", "5.1", months...))
			if err != nil || sum.States[bibstat.StateOK] != len(months) {
				t.Fatalf("run: %v %+v", err, sum)
			}
			for i := 1; i < len(f.starts); i++ {
				want := f.starts[i-1].Add(spacing)
				if f.done[i-1].After(want) {
					want = f.done[i-1]
				}
				if !f.starts[i].Equal(want) {
					t.Errorf("request %d started %v after the previous (its answer took %v), want %v",
						i, f.starts[i].Sub(f.starts[i-1]), f.done[i-1].Sub(f.starts[i-1]), want.Sub(f.starts[i-1]))
				}
			}
		})
	}
}

// TestSpacingPerHost: against a real loopback server answering some
// requests slowly, on a busy scheduler (one P, a goroutine always runnable) and with
// every other request's bytes held back on their way to the socket as a
// descheduled writer would hold them, the server never has two requests at
// once nor one before the previous answer is done, and no two requests
// reach the socket closer than the spacing. Each request reaches the server
// between the start and the end of its write to the kernel, so the gap the
// server can see is at least the next write's start less this one's end.
// Before the gate was kept at the socket, the harvester counted a request
// as sent when net/http had buffered it, and a held-back write made the
// next gap short by however long it was held.
func TestSpacingPerHost(t *testing.T) {
	const spacing = 50 * time.Millisecond
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	stop := make(chan struct{})
	defer close(stop)
	go func() { // noise: always runnable, so every wake-up queues behind it
		for {
			select {
			case <-stop:
				return
			default:
				runtime.Gosched()
			}
		}
	}()

	r := newRig(t, "5.1")
	var mu sync.Mutex
	var writes []socketWrite
	var arrivals, finished []time.Time
	inFlight, most := 0, 0
	inner := r.world.Handler("avis")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		n := len(arrivals)
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		if n%3 == 0 {
			time.Sleep(2 * spacing) // a slow answer: the next request waits for it, not for it plus the spacing
		}
		inner.ServeHTTP(w, req)
		mu.Lock()
		inFlight--
		finished = append(finished, time.Now())
		mu.Unlock()
	}))
	defer srv.Close()
	r.srv = srv
	r.h.Spacing = spacing
	var d net.Dialer
	r.h.Fetcher = &sushi.Client{HTTP: &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return sushi.GateConn(&notedConn{Conn: c, hold: spacing * 2 / 3, note: func(w socketWrite) { mu.Lock(); writes = append(writes, w); mu.Unlock() }}), nil
	}}}}
	months := bibstat.MonthsBetween(jan, bibstat.Month{Year: 2025, Mon: 9})
	if _, err := r.h.Run(context.Background(), r.jobs("2030100", "5.1", months...)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(arrivals) != len(months) || len(writes) != len(months) || most != 1 {
		t.Fatalf("%d requests (%d written), at most %d at once; want %d, one at a time", len(arrivals), len(writes), most, len(months))
	}
	for i := 1; i < len(writes); i++ {
		if gap := writes[i].start.Sub(writes[i-1].end); gap < spacing {
			t.Errorf("gap %d: %v < spacing %v at the socket", i, gap, spacing)
		}
		if arrivals[i].Before(finished[i-1]) {
			t.Errorf("request %d came before the answer to %d was done", i, i-1)
		}
	}
}

// socketWrite is when a write to the kernel began and returned.
type socketWrite struct{ start, end time.Time }

// notedConn notes each write (a GET is one write), holding every other
// one back by hold before it reaches the socket.
type notedConn struct {
	net.Conn
	hold time.Duration
	n    int
	note func(socketWrite)
}

func (c *notedConn) Write(b []byte) (int, error) {
	if c.n++; c.n%2 == 1 {
		time.Sleep(c.hold)
	}
	start := time.Now()
	n, err := c.Conn.Write(b)
	c.note(socketWrite{start, time.Now()})
	return n, err
}
