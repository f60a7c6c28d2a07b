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
