package bench

import (
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/bibliotek24/bibstat/internal/demo"
	"github.com/bibliotek24/bibstat/internal/sushisim"
)

// arrivals records when each simulated host received each request, twice:
// when its socket received the bytes (the kernel's receive time, where the
// system gives it) and when its handler began. The handler's time adds the
// simulator's own scheduling, which on a busy machine is milliseconds and
// bunches arrivals that left evenly spaced; the socket's is what the
// harvester's pace alone decides.
type arrivals struct {
	mu      sync.Mutex
	handler map[string][]int64 // Unix nanoseconds: a third of a time.Time's memory, 135,000 of them
	wire    map[string][]int64
}

// gaps is what the arrivals at the hosts say of the spacing.
type gaps struct {
	requests   int           // arrivals at all hosts
	maxReq     int           // the most arrivals at one host
	violations int           // gaps shorter than the spacing
	minGap     time.Duration // the shortest gap, -1 with none
}

// stats returns, for the socket's arrivals (the handler's where the system
// gives no receive times) and for the handler's, how the gaps between two
// arrivals at one host compare with spacing, and where the first was measured.
func (a *arrivals) stats(spacing time.Duration) (first, handler gaps, at string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	handler = gapStats(a.handler, spacing)
	if len(a.wire) == 0 {
		return handler, handler, "handler"
	}
	return gapStats(a.wire, spacing), handler, "socket"
}

func gapStats(at map[string][]int64, spacing time.Duration) gaps {
	g := gaps{minGap: -1}
	for _, ts := range at {
		slices.Sort(ts)
		g.requests += len(ts)
		g.maxReq = max(g.maxReq, len(ts))
		for k := 1; k < len(ts); k++ {
			gap := time.Duration(ts[k] - ts[k-1])
			if gap < spacing {
				g.violations++
			}
			if g.minGap < 0 || gap < g.minGap {
				g.minGap = gap
			}
		}
	}
	return g
}

func (a *arrivals) note(to map[string][]int64, platform string, t time.Time) {
	a.mu.Lock()
	to[platform] = append(to[platform], t.UnixNano())
	a.mu.Unlock()
}

// serveRecorded starts the simulator's servers, one loopback host per
// platform, recording request arrivals per host at the handler and at the
// socket.
func serveRecorded(world *sushisim.Config) (*arrivals, map[string]string, func(), error) {
	arr := &arrivals{handler: map[string][]int64{}, wire: map[string][]int64{}}
	bases, stop, err := demo.ServeVendorsOn(world, func(platform string, h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			arr.note(arr.handler, platform, time.Now())
			h.ServeHTTP(w, r)
		})
	}, func(platform string, ln net.Listener) net.Listener {
		return stampListener(ln, func(t time.Time) { arr.note(arr.wire, platform, t) })
	})
	return arr, bases, stop, err
}

// split is where a harvest's wall time went beyond the politeness bound,
// from the socket's arrivals (the handler's where there are none): the
// time before the first request of the host that finished last, each of
// its gaps' excess over the spacing, and the time after its last request.
// The three add up to the wall exactly, less that host's (requests − 1)
// spacings.
type split struct {
	host                string
	first               time.Duration // before any host's first request: the run's start-up
	start, excess, tail time.Duration
	late                []time.Duration // every host's gaps' excess over the spacing, sorted
}

func (a *arrivals) split(start, end time.Time, spacing time.Duration) split {
	a.mu.Lock()
	defer a.mu.Unlock()
	at := a.wire
	if len(at) == 0 {
		at = a.handler
	}
	var s split
	var lastEnd int64
	first := end.UnixNano()
	for host, ts := range at {
		if len(ts) == 0 {
			continue
		}
		slices.Sort(ts)
		first = min(first, ts[0])
		for k := 1; k < len(ts); k++ {
			s.late = append(s.late, time.Duration(ts[k]-ts[k-1])-spacing)
		}
		if l := ts[len(ts)-1]; l > lastEnd || (l == lastEnd && host < s.host) {
			lastEnd, s.host = l, host
		}
	}
	slices.Sort(s.late)
	s.first = time.Duration(first - start.UnixNano())
	if ts := at[s.host]; len(ts) > 0 {
		s.start = time.Duration(ts[0] - start.UnixNano())
		s.tail = time.Duration(end.UnixNano() - ts[len(ts)-1])
		s.excess = time.Duration(ts[len(ts)-1]-ts[0]) - time.Duration(len(ts)-1)*spacing
	}
	return s
}

// quantile is the q-quantile of sorted d (nearest rank), 0 for none.
func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, int(q*float64(len(d))))]
}

func mean(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	return sum / time.Duration(len(d))
}
