package ingest

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/sushi"
)

// maxTransportFailures in a row make a host unreachable for the run.
const maxTransportFailures = 5

// pending is a job waiting in a host's queue.
type pending struct {
	j         Job
	notBefore time.Time
	tries     int // queued answers in this run
}

// hostWorker is one host's queue and pace during a run; only the host's
// worker goroutine touches it.
type hostWorker struct {
	h   *Harvester
	rs  *runState
	pol Policy
	log *slog.Logger

	jobs    []*Job
	next    int        // jobs[next:] are not asked yet
	retries []*pending // asked again in this run: queued or throttled

	gate      *hostGate
	throttles int // throttled answers in this run
	down      int // transport failures in a row
}

// hostGate is a host's pace at the socket, kept by the SUSHI client's
// connections (sushi.Gate): a request's first byte is handed to the
// kernel only a spacing after the previous request's last byte was, and
// not while the host is paused. Counted there, no delay of the client's
// own (a goroutine descheduled between building a request and writing it,
// a retry on a fresh connection, a redirect) can bring two requests closer
// than the spacing; the spacing is start to start, so a slow answer makes
// the next request wait for it, not for it plus the spacing.
type hostGate struct {
	ctx     context.Context
	clk     waitClock
	spacing time.Duration

	mu          sync.Mutex // Wait and Sent run on the transport's goroutine
	started     time.Time  // when the previous request's last write returned
	pausedUntil time.Time  // the host throttled: no request before
	sent        bool       // the request in flight passed the gate
	gated       bool       // the previous request passed the gate

	// For the run's Pace: the request in flight's turn, when it reached
	// the gate and when its coarse wait there ended, and when the previous
	// answer was read.
	turnAt, reachedAt, wokeAt, answeredAt time.Time
	pace                                  Pace
}

// Pace is how late a run's gated requests went, each counted from its
// turn: the later of the previous request's start plus the spacing and
// the previous answer read (a host pause's end where it paused).
type Pace struct {
	// Wrote is when each request's last write returned (its start, from
	// which the next turn counts), after its turn.
	Wrote []time.Duration
	// Reached is when each request reached the gate, built, after its
	// turn: negative when it waited there, as it should.
	Reached []time.Duration
	// Woke is when each request's wait at the gate on the runtime's
	// timers ended and its precise wait began, after its turn: about
	// -coarseSlack when the timer fired on time, positive when the
	// request was late before its precise wait began.
	Woke []time.Duration
}

func (p *Pace) add(q Pace) {
	p.Wrote = append(p.Wrote, q.Wrote...)
	p.Reached = append(p.Reached, q.Reached...)
	p.Woke = append(p.Woke, q.Woke...)
}

// turn is when the next request may go.
func (g *hostGate) turn() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	at := g.pausedUntil
	if !g.started.IsZero() && g.started.Add(g.spacing).After(at) {
		at = g.started.Add(g.spacing)
	}
	return at
}

// Wait holds the request's first write until the host's turn.
func (g *hostGate) Wait() error {
	at, t := g.turn(), g.clk.now()
	g.mu.Lock()
	g.turnAt, g.reachedAt, g.wokeAt = at, t, t
	g.mu.Unlock()
	return g.clk.sleepUntil(g.ctx, at, g.woke)
}

// woke notes when the coarse part of the request's wait ended.
func (g *hostGate) woke() {
	t := g.clk.now()
	g.mu.Lock()
	g.wokeAt = t
	g.mu.Unlock()
}

// Sent notes a write of the request: the last one counts.
func (g *hostGate) Sent() {
	t := g.clk.now()
	g.mu.Lock()
	g.started, g.sent = t, true
	g.mu.Unlock()
}

// answered ends a request: where no write passed the gate (another
// Fetcher, or a transport without gated connections), the answer's end
// stands in for the start, which is never too early.
func (g *hostGate) answered() {
	t := g.clk.now()
	g.mu.Lock()
	if !g.sent {
		g.started = t
	} else if turn := later(g.turnAt, g.answeredAt); !turn.IsZero() { // a host's first request has no turn
		g.pace.Wrote = append(g.pace.Wrote, g.started.Sub(turn))
		g.pace.Reached = append(g.pace.Reached, g.reachedAt.Sub(turn))
		g.pace.Woke = append(g.pace.Woke, g.wokeAt.Sub(turn))
	}
	g.gated, g.sent, g.answeredAt = g.sent, false, t
	g.mu.Unlock()
}

// sleepToWake waits until the worker builds the next request: early when
// the gate will hold it for the turn, else at the turn. When the gate
// holds it, the worker's wake need not be precise: a runtime timer's
// millisecond is well inside the early start, and a second kernel sleep
// a request (a thread and a handoff of its P) is spared.
func (g *hostGate) sleepToWake() error {
	at := g.turn()
	g.mu.Lock()
	gated := g.gated
	g.mu.Unlock()
	if !gated {
		return g.clk.sleepUntil(g.ctx, at, nil)
	}
	at = at.Add(-g.clk.early())
	if c, ok := g.clk.(roughClock); ok {
		return c.sleepRoughly(g.ctx, at)
	}
	return g.clk.sleepUntil(g.ctx, at, nil)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func (g *hostGate) pause(until time.Time) {
	g.mu.Lock()
	g.pausedUntil = until
	g.mu.Unlock()
}

// runHost is one host's worker: one request in flight, spaced, pausing
// the whole host when the vendor throttles.
func (h *Harvester) runHost(ctx context.Context, host string, jobs []*Job, rs *runState, pol Policy, ph hostPhase) error {
	clk := h.clock()
	w := &hostWorker{h: h, rs: rs, pol: pol, log: h.log().With("host", host), jobs: jobs,
		gate: &hostGate{ctx: ctx, clk: clk, spacing: hostSpacing(jobs, h.Spacing)}}
	w.gate.pace = Pace{Wrote: make([]time.Duration, 0, len(jobs)), Reached: make([]time.Duration, 0, len(jobs)),
		Woke: make([]time.Duration, 0, len(jobs))}
	defer rs.addPace(w.gate)
	if ph.i > 0 {
		// As if the previous request had gone a spacing before the host's
		// phase: its first request waits for the phase.
		g := w.gate
		g.started = clk.now().Add(g.spacing*time.Duration(ph.i)/time.Duration(ph.n) - g.spacing)
	}
	for {
		p, wake := w.pick(clk.now())
		if p == nil {
			if wake.IsZero() {
				return nil
			}
			if err := clk.sleepUntil(ctx, wake, nil); err != nil {
				return nil
			}
			continue
		}
		if rs.isBroken(p.j.Cred) {
			rs.skipBroken()
			continue
		}
		if skip, err := rs.skipUnsupported(h, p.j); err != nil || skip {
			if err != nil {
				return err
			}
			continue
		}
		if err := w.gate.sleepToWake(); err != nil {
			return nil
		}

		resp, ferr := w.fetch(ctx, p.j)
		if ferr != nil && ctx.Err() != nil {
			return nil
		}
		w.answered(ferr)
		if w.down >= maxTransportFailures {
			return w.cutOff(ctx, p, ferr)
		}
		if ferr == nil && plainReport(resp) {
			select {
			case rs.work <- task{j: p.j, resp: resp}:
			case <-ctx.Done():
				return nil
			}
			continue
		}
		res, err := h.process(ctx, p.j, resp, ferr)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		rs.finish(h, p.j, res)

		switch res.state {
		case bibstat.StateThrottled:
			if !w.pause(p, res.retryAfter) {
				return nil
			}
		case bibstat.StateQueued:
			w.requeue(p, res.retryAfter)
		}
	}
}

// hostPhase is a host's place (i of n) in the run: host i's first request
// waits i/n of its spacing, so that the hosts' turns, and the work of
// building their requests, are spread over the spacing instead of all
// coming at once, one host's late because another's took the core.
type hostPhase struct{ i, n int }

// hostSpacing is the largest spacing of the jobs, as platforms sharing a
// host get, or def when none sets one.
func hostSpacing(jobs []*Job, def time.Duration) time.Duration {
	var spacing time.Duration
	for _, j := range jobs {
		spacing = max(spacing, j.Spacing)
	}
	if spacing <= 0 {
		return def
	}
	return spacing
}

// pick takes the job to ask next: the first retry that is due, else the
// next job in order. With neither it returns when the earliest retry is
// due, or the zero time when the host is done.
func (w *hostWorker) pick(now time.Time) (*pending, time.Time) {
	var earliest time.Time
	for i, r := range w.retries {
		if !r.notBefore.After(now) {
			w.retries = slices.Delete(w.retries, i, i+1)
			return r, time.Time{}
		}
		if earliest.IsZero() || r.notBefore.Before(earliest) {
			earliest = r.notBefore
		}
	}
	if w.next < len(w.jobs) {
		w.next++
		return &pending{j: *w.jobs[w.next-1]}, time.Time{}
	}
	return nil, earliest
}

// fetch asks the vendor for j's unit through the host's gate.
func (w *hostWorker) fetch(ctx context.Context, j Job) (*sushi.Response, error) {
	resp, err := w.h.Fetcher.Report(sushi.WithGate(ctx, w.gate), j.Cred, j.Unit.Report, j.Unit.Month, j.Unit.Month)
	w.gate.answered()
	return resp, err
}

// answered counts the transport failures in a row.
func (w *hostWorker) answered(ferr error) {
	if ferr != nil {
		w.down++
		return
	}
	w.down = 0
}

// left counts the jobs not asked yet and the retries waiting.
func (w *hostWorker) left() int { return len(w.jobs) - w.next + len(w.retries) }

// cutOff ends an unreachable host's run after recording its last failure:
// the rest waits for the next run rather than failing one by one, spaced,
// for hours.
func (w *hostWorker) cutOff(ctx context.Context, p *pending, ferr error) error {
	left := w.left()
	w.log.Warn("host unreachable; leaving the rest for the next run", "failures", w.down, "error", ferr, "deferred", left)
	res, err := w.h.process(ctx, p.j, nil, ferr)
	if err != nil {
		return err
	}
	w.rs.finish(w.h, p.j, res)
	w.rs.deferred(left)
	return nil
}

// pause holds the whole host after a throttled answer, for its Retry-After
// or a backoff, and puts the unit first in line again. It reports false
// when the host throttles too long or too often for this run: then the
// rest, the unit included, is deferred.
func (w *hostWorker) pause(p *pending, retryAfter time.Duration) bool {
	w.throttles++
	pause := retryAfter
	if pause <= 0 {
		pause = backoff(w.pol.ThrottleDelay, 0, w.throttles, w.pol.Jitter)
	}
	if pause > w.pol.MaxPause || w.throttles > w.pol.MaxThrottles {
		left := w.left() + 1
		w.log.Warn("host keeps throttling; leaving the rest for the next run", "pause", pause, "throttles", w.throttles, "deferred", left)
		w.rs.deferred(left)
		return false
	}
	w.log.Info("host throttles; pausing it", "pause", pause, "unit", p.j.Unit.String())
	w.gate.pause(w.h.clock().now().Add(pause))
	w.retries = append([]*pending{{j: p.j, tries: p.tries}}, w.retries...)
	return true
}

// requeue asks a queued unit again after the vendor's Retry-After or a
// backoff, until it has been queued QueuedTries times in the run; then its
// queued state stands.
func (w *hostWorker) requeue(p *pending, retryAfter time.Duration) {
	p.tries++
	if p.tries < w.pol.QueuedTries {
		p.notBefore = w.h.clock().now().Add(w.pol.queuedWait(p.tries, retryAfter))
		w.retries = append(w.retries, p)
	}
}

// waitClock is the clock the host workers pace themselves by; tests use a
// fake one so that spacing is checked without timing anything.
type waitClock interface {
	now() time.Time
	// sleepUntil waits for t; woke, when not nil, is called where a
	// coarse wait ends and a precise one begins.
	sleepUntil(ctx context.Context, t time.Time, woke func()) error
	// early is how long before its turn a worker wakes to build its
	// request, which then waits at the gate, built, for the turn.
	early() time.Duration
}

// roughClock is a waitClock that can also wait on the runtime's timers
// alone, a millisecond or so late.
type roughClock interface {
	sleepRoughly(ctx context.Context, t time.Time) error
}

// realClock waits on the real clock.
type realClock struct{}

func (realClock) now() time.Time { return time.Now() }

func (realClock) sleepUntil(ctx context.Context, t time.Time, woke func()) error {
	return sleepUntil(ctx, t, woke)
}

func (realClock) sleepRoughly(ctx context.Context, t time.Time) error { return sleepRoughly(ctx, t) }

// sleepRoughly waits on a runtime timer for the real clock to reach t, or
// ctx to end.
func sleepRoughly(ctx context.Context, t time.Time) error {
	if d := time.Until(t); d > 0 {
		tm := time.NewTimer(d)
		defer tm.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tm.C:
		}
	}
	return ctx.Err()
}

// early: building a request and handing it to the connection's writer is
// tens of microseconds on an idle machine, but a woken goroutine waits for
// a core behind the parse workers and the collector: with 1 ms, half of
// the requests reached the gate after their turn at load average 11 (p90
// 9.6 ms late). Waiting at the gate costs nothing more than waiting here.
func (realClock) early() time.Duration { return 10 * time.Millisecond }

func (h *Harvester) clock() waitClock {
	if h.wait != nil {
		return h.wait
	}
	return realClock{}
}

// coarseSlack is how late a runtime timer may fire: the runtime waits for
// timers in whole milliseconds, so a wait of 19.3 ms sleeps 19 ms and then
// 1 ms more (measured: 0.7 ms late at the median).
const coarseSlack = 2 * time.Millisecond

// sleepUntil waits for the real clock to reach t, or ctx to end: on a
// runtime timer until shortly before t, then the rest precisely
// (preciseUntil), during which ctx is not watched.
func sleepUntil(ctx context.Context, t time.Time, woke func()) error {
	if err := sleepRoughly(ctx, t.Add(-coarseSlack)); err != nil {
		return err
	}
	if woke != nil {
		woke()
	}
	preciseUntil(t)
	return nil
}

// plainReport reports whether resp is a 200 JSON answer that names no
// exception: whatever it turns out to be (ok, zero, or a lying body that
// fails), it cannot pause the host, queue the unit or break the
// credential, so the host need not wait for it to be processed.
func plainReport(resp *sushi.Response) bool {
	if resp.Status != http.StatusOK {
		return false
	}
	b := bytes.TrimSpace(resp.Body)
	return len(b) > 0 && b[0] == '{' && !bytes.Contains(b, []byte("xception")) && !bytes.Contains(b, []byte("XCEPTION"))
}
