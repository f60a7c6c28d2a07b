package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/url"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/ingest/sushi"
	"github.com/bibliotek24/bibstat/schemas"
)

// ObjectStore is what the harvester needs of the object store.
type ObjectStore interface {
	Put(ctx context.Context, key string, r io.Reader) error
}

// Fetcher fetches one report; *sushi.Client is the real one.
type Fetcher interface {
	Report(ctx context.Context, c sushi.Credential, report bibstat.ReportID, begin, end bibstat.Month) (*sushi.Response, error)
}

var _ Fetcher = (*sushi.Client)(nil)

// Job is one unit to harvest with the credential to use.
type Job struct {
	Unit bibstat.Unit
	Cred sushi.Credential
	// Refresh fetches the unit even if the ledger has it final (ok or zero)
	// and older than Policy.RefreshAge: vendors restate recent months.
	Refresh bool
	// Host is the politeness key: jobs with one Host share one worker.
	// Empty means the host of Cred.BaseURL.
	Host string
	// Spacing overrides Harvester.Spacing for the job's host when > 0.
	Spacing time.Duration
}

func (j Job) host() string {
	if j.Host != "" {
		return j.Host
	}
	if u, err := url.Parse(j.Cred.BaseURL); err == nil && u.Host != "" {
		return u.Host
	}
	return j.Cred.BaseURL
}

func credKey(c sushi.Credential) string { return c.Platform + "/" + c.ID }

// Harvester runs jobs against vendors politely and archives every answer.
type Harvester struct {
	Store   ObjectStore
	Ledger  *ledger.Ledger
	Fetcher Fetcher
	Log     *slog.Logger
	// Spacing is the least time between two requests to one host, counted
	// start to start (from when the previous request was written), with
	// one request in flight: the next goes at the later of the previous
	// start plus Spacing and the previous answer read, so that the vendor
	// never sees two requests closer than Spacing.
	Spacing time.Duration
	// Now is the clock of the ledger and sidecars; nil means time.Now.
	// Waiting always uses the real clock.
	Now func() time.Time
	// Policy says when units are retried; zero means DefaultPolicy.
	Policy Policy
	// Force ignores next attempts, retry limits and broken credentials.
	Force bool
	// Progress, when set, is called after every request (never concurrently).
	Progress func(Progress)
	// Workers archive, classify and record plain reports off the hosts'
	// critical path; 0 means one per CPU (at most GOMAXPROCS).
	Workers int

	wait waitClock // nil means the real clock; tests set a fake one
}

func (h *Harvester) workers() int {
	if h.Workers > 0 {
		return h.Workers
	}
	return max(1, min(runtime.NumCPU(), runtime.GOMAXPROCS(0)))
}

// Progress reports one request's outcome.
type Progress struct {
	Done, Total int // requests finished; units to fetch
	Unit        bibstat.Unit
	State       bibstat.State
}

// Summary counts what a harvest did.
type Summary struct {
	Jobs     int
	Skipped  int                   // not due: final, waiting, given up, broken (see SkipReasons)
	Fetched  int                   // units whose state this run recorded (the last request per unit)
	Requests int                   // requests made, retries included
	States   map[bibstat.State]int // final state of each fetched unit in this run
	Bytes    int64                 // raw bytes archived
	// SkipReasons counts skipped jobs by reason (SkipFinal, SkipNotDue, …).
	SkipReasons map[string]int
	// Deferred counts jobs left for a later run: their host paused longer
	// than the run waits, or their credential broke during the run.
	Deferred int
	Hosts    int
	Pace     Pace // the gated requests', every host's in one
}

// runState is shared by the host workers of one run.
type runState struct {
	mu     sync.Mutex
	sum    *Summary
	final  map[bibstat.Unit]bibstat.State
	broken map[string]bool // credKey → broke during this run
	// unsupported holds, by reportKey, the entry of a unit the vendor said
	// it does not offer (404 / 3000), from an earlier run or this one: the
	// report's other months are not asked in this run.
	unsupported map[string]ledger.Entry
	done        int
	total       int
	work        chan task
}

// task is a fetched response for the pool to archive, classify and record.
type task struct {
	j    Job
	resp *sushi.Response
}

// finish counts one request's outcome.
func (rs *runState) finish(h *Harvester, j Job, res result) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.sum.Requests++
	rs.sum.Bytes += res.bytes
	rs.final[j.Unit] = res.state
	rs.done++
	if res.state == bibstat.StateCredentialsBroken {
		rs.broken[credKey(j.Cred)] = true
	}
	if res.state == bibstat.StateUnsupported {
		if e, ok := h.Ledger.Get(j.Unit); ok {
			rs.unsupported[reportKey(j)] = e
		}
	}
	if h.Progress != nil {
		h.Progress(Progress{Done: rs.done, Total: rs.total, Unit: j.Unit, State: res.state})
	}
}

// addPace adds a host's pace when its worker ends.
func (rs *runState) addPace(g *hostGate) {
	g.mu.Lock()
	defer g.mu.Unlock()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.sum.Pace.add(g.pace)
}

func (rs *runState) isBroken(c sushi.Credential) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.broken[credKey(c)]
}

func reportKey(j Job) string { return credKey(j.Cred) + "/" + string(j.Unit.Report) }

// skipUnsupported reports whether j's report is unsupported for its
// credential: then j is not asked, and a unit never asked before is
// recorded unsupported from the answer that said so, so that status shows
// why it is missing. A unit with a state of its own keeps it.
func (rs *runState) skipUnsupported(h *Harvester, j Job) (bool, error) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	by, ok := rs.unsupported[reportKey(j)]
	if !ok {
		return false, nil
	}
	rs.sum.Skipped++
	rs.sum.SkipReasons[SkipUnsupported]++
	if _, asked := h.Ledger.Get(j.Unit); asked {
		return true, nil
	}
	u := j.Unit
	e := ledger.Entry{Platform: u.Platform, Credential: u.Credential, Library: j.Cred.Library, Report: u.Report,
		Month: u.Month.String(), State: bibstat.StateUnsupported, Code: by.Code, HTTPStatus: by.HTTPStatus,
		LastError: fmt.Sprintf("not asked: %s was answered %s", by.Month, by.LastError),
		CredFP:    Fingerprint(h.Ledger, j.Cred), UpdatedAt: h.now()}
	return true, h.record(e)
}

// skipBroken counts a job whose credential broke earlier in this run.
func (rs *runState) skipBroken() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.sum.Deferred++
	rs.sum.SkipReasons[SkipBroken]++
}

// deferred counts n jobs a host leaves for the next run.
func (rs *runState) deferred(n int) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.sum.Deferred += n
}

// Run harvests jobs and returns what it did. One vendor failing does not
// stop the others; the error is for what must stop the whole harvest: the
// object store (wrapping bibstat.ErrStoreUnavailable) or the ledger
// failing, or ctx ending. The Summary is valid either way.
func (h *Harvester) Run(ctx context.Context, jobs []Job) (Summary, error) {
	sum := Summary{Jobs: len(jobs), States: map[bibstat.State]int{}, SkipReasons: map[string]int{}}
	byHost := h.dueByHost(jobs, &sum)
	rs := &runState{sum: &sum, final: map[bibstat.Unit]bibstat.State{}, broken: map[string]bool{}, unsupported: h.unsupportedBefore()}
	for _, js := range byHost {
		rs.total += len(js)
	}
	sum.Pace = Pace{Wrote: make([]time.Duration, 0, rs.total), Reached: make([]time.Duration, 0, rs.total)}
	hosts := slices.Sorted(maps.Keys(byHost))
	sum.Hosts = len(hosts)

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	// Responses that cannot change how a host is treated (a 200 report
	// without exceptions) are archived, classified and recorded by a pool,
	// so that a host's next request never waits for the previous one's
	// reading or the disk.
	rs.work = make(chan task, 4096)
	var pool sync.WaitGroup
	for range h.workers() {
		pool.Go(func() { h.processPlain(ctx, cancel, rs) })
	}
	pol := h.policy()
	var wg sync.WaitGroup
	for i, host := range hosts {
		wg.Go(func() {
			if err := h.runHost(ctx, host, byHost[host], rs, pol, hostPhase{i, len(hosts)}); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	// The hosts are done: what the pool has left is the run's tail, and
	// its threads' lower priority (which cannot be raised again without
	// privilege) would leave it to other processes' mercy. Helpers at the
	// normal priority drain it with the pool.
	for range h.workers() {
		pool.Go(func() { h.drain(ctx, cancel, rs) })
	}
	close(rs.work)
	pool.Wait()

	if err := h.Ledger.Sync(); err != nil {
		cancel(fmt.Errorf("ledger: %w", err))
	}
	for _, st := range rs.final {
		sum.States[st]++
	}
	sum.Fetched = len(rs.final)
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return sum, err
	}
	return sum, ctx.Err()
}

// dueByHost groups the jobs that are due by politeness host and counts the
// others in sum as skipped. It runs before any host's first request, so
// each credential's fingerprint and each base URL's host are worked out
// once, not per job, and each host's slice is made at its size.
func (h *Harvester) dueByHost(jobs []Job, sum *Summary) map[string][]*Job {
	pol := h.policy()
	now := h.now()
	brokenFP := h.brokenBefore()
	fps := map[[2]string]string{} // by platform and credential id, as credKey

	hostIdx := map[string]int{} // index in hosts
	baseIdx := map[string]int{} // a base URL's host's index, for jobs without a Host of their own
	var hosts []string
	var counts []int
	at := make([]int32, len(jobs)) // each job's host index, -1 when not due
	for i := range jobs {
		j := &jobs[i]
		at[i] = -1
		ck := [2]string{j.Cred.Platform, j.Cred.ID}
		fp, ok := fps[ck]
		if !ok {
			fp = Fingerprint(h.Ledger, j.Cred)
			fps[ck] = fp
		}
		if len(brokenFP) > 0 && brokenFP[credKey(j.Cred)][fp] && !h.Force {
			sum.Skipped++
			sum.SkipReasons[SkipBroken]++
			continue
		}
		e, ok := h.Ledger.Get(j.Unit)
		if run, why := pol.due(*j, e, ok, now, h.Force, fp); !run {
			sum.Skipped++
			sum.SkipReasons[why]++
			continue
		}
		hi, known := 0, false
		if j.Host == "" {
			hi, known = baseIdx[j.Cred.BaseURL]
		}
		if !known {
			host := j.host()
			if hi, known = hostIdx[host]; !known {
				hi = len(hosts)
				hostIdx[host] = hi
				hosts, counts = append(hosts, host), append(counts, 0)
			}
			if j.Host == "" {
				baseIdx[j.Cred.BaseURL] = hi
			}
		}
		at[i] = int32(hi)
		counts[hi]++
	}
	// Pointers into jobs, not copies: a national run is 135,000 jobs of
	// 240 bytes each.
	byHost := make(map[string][]*Job, len(hosts))
	for hi, host := range hosts {
		byHost[host] = make([]*Job, 0, counts[hi])
	}
	for i, hi := range at {
		if hi >= 0 {
			byHost[hosts[hi]] = append(byHost[hosts[hi]], &jobs[i])
		}
	}
	return byHost
}

// brokenBefore returns the fingerprints, by credKey, of credentials broken
// in an earlier run: unchanged since, they are not asked again.
func (h *Harvester) brokenBefore() map[string]map[string]bool {
	broken := map[string]map[string]bool{}
	h.Ledger.Each(func(e *ledger.Entry) {
		if e.State == bibstat.StateCredentialsBroken && e.CredFP != "" {
			k := e.Platform + "/" + e.Credential
			if broken[k] == nil {
				broken[k] = map[string]bool{}
			}
			broken[k][e.CredFP] = true
		}
	})
	return broken
}

// unsupportedBefore returns, by reportKey, a unit the vendor said in an
// earlier run it does not offer; none with Force, which asks each such
// report once again.
func (h *Harvester) unsupportedBefore() map[string]ledger.Entry {
	un := map[string]ledger.Entry{}
	if h.Force {
		return un
	}
	h.Ledger.Each(func(e *ledger.Entry) {
		if e.State == bibstat.StateUnsupported {
			un[e.Platform+"/"+e.Credential+"/"+string(e.Report)] = *e
		}
	})
	return un
}

// processPlain is a pool worker: it archives, classifies and records the
// plain reports the hosts hand it until the run closes rs.work. A store or
// ledger failure stops the run.
func (h *Harvester) processPlain(ctx context.Context, cancel context.CancelCauseFunc, rs *runState) {
	background()
	h.drain(ctx, cancel, rs)
}

// drain archives, classifies and records rs.work's tasks until it closes.
func (h *Harvester) drain(ctx context.Context, cancel context.CancelCauseFunc, rs *runState) {
	for t := range rs.work {
		if ctx.Err() != nil {
			continue // stopping: the unit is fetched again next run
		}
		// Let a host worker whose spacing is up run first: its
		// request is late by whatever it waits here.
		runtime.Gosched()
		res, err := h.process(ctx, t.j, t.resp, nil)
		if err != nil {
			if ctx.Err() == nil {
				cancel(err)
			}
			continue
		}
		rs.finish(h, t.j, res)
	}
}

func (h *Harvester) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Harvester) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.New(slog.DiscardHandler)
}

// result is what one request did.
type result struct {
	state      bibstat.State
	bytes      int64
	retryAfter time.Duration
}

// storeErr makes a failed Put stop the harvest as the store being unavailable.
func storeErr(what string, u bibstat.Unit, err error) error {
	if errors.Is(err, bibstat.ErrStoreUnavailable) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s %s: %w", what, u, err)
	}
	return fmt.Errorf("%s %s: %w: %w", what, u, bibstat.ErrStoreUnavailable, err)
}

// process archives, classifies and records one fetched unit (or its
// transport failure, fetchErr). Its error is fatal to the harvest; a
// vendor's failure is a state, not an error. The ledger says ok only after
// the raw object and the sidecar are stored.
func (h *Harvester) process(ctx context.Context, j Job, resp *sushi.Response, fetchErr error) (result, error) {
	u := j.Unit
	prev, _ := h.Ledger.Get(u)
	entry := ledger.Entry{Platform: u.Platform, Credential: u.Credential, Library: j.Cred.Library,
		Report: u.Report, Month: u.Month.String(), Attempts: prev.Attempts + 1, RawKey: prev.RawKey, CredFP: Fingerprint(h.Ledger, j.Cred)}
	pol := h.policy()

	if err := fetchErr; err != nil {
		now := h.now()
		entry.State, entry.LastError, entry.UpdatedAt = bibstat.StateFailed, err.Error(), now
		entry.NextAttempt = pol.nextAttempt(entry.State, entry.Attempts, 0, now)
		h.log().Warn("harvest failed", "unit", u.String(), "error", err)
		return result{state: entry.State}, h.record(entry)
	}

	at := h.now()
	rawKey := u.RawKey(at, "json")
	if err := h.Store.Put(ctx, rawKey, bytes.NewReader(resp.Body)); err != nil {
		return result{}, storeErr("archive", u, err)
	}
	out := classify(ctx, j, rawKey, resp)
	out.err = resp.Redactor.String(out.err) // a vendor may echo the secrets in its messages
	sum := sha256.Sum256(resp.Body)
	side := bibstat.Sidecar{
		Key: rawKey, Source: "sushi", Platform: u.Platform, Credential: u.Credential, Library: j.Cred.Library,
		Report: u.Report, Month: u.Month.String(), URL: resp.URL, Status: resp.Status, ContentType: resp.ContentType,
		SHA256: hex.EncodeToString(sum[:]), Size: int64(len(resp.Body)), HarvestedAt: at.UTC(),
		State: out.state, Error: out.err, Release: out.release, Rows: out.rows,
	}
	if out.state.Loadable() {
		side.ParserVersion = schemas.Version // the reader that judged it; the warehouse parses it again
	}
	meta, err := bibstat.EncodeSidecar(side)
	if err != nil {
		return result{}, fmt.Errorf("sidecar %s: %w", u, err)
	}
	if err := h.Store.Put(ctx, bibstat.SidecarKey(rawKey), bytes.NewReader(meta)); err != nil {
		return result{}, storeErr("archive sidecar", u, err)
	}
	entry.State, entry.LastError, entry.Code, entry.HTTPStatus, entry.UpdatedAt = out.state, out.err, out.code, resp.Status, at
	if out.state.Loadable() || prev.RawKey == "" || !prev.State.Loadable() {
		// Keep pointing at the last loadable harvest when a refresh fails.
		entry.RawKey = rawKey
	}
	if out.state == bibstat.StateOK || out.state == bibstat.StateZero {
		entry.Attempts = 0
	}
	entry.NextAttempt = pol.nextAttempt(out.state, entry.Attempts, out.retryAfter, at)
	if out.state == bibstat.StateOK || out.state == bibstat.StateZero {
		h.log().Debug("harvested", "unit", u.String(), "state", string(out.state), "rows", out.rows)
	} else {
		h.log().Info("harvested", "unit", u.String(), "state", string(out.state), "reason", out.err)
	}
	return result{state: out.state, bytes: side.Size, retryAfter: out.retryAfter}, h.record(entry)
}

func (h *Harvester) record(e ledger.Entry) error {
	if err := h.Ledger.Record(e); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	return nil
}
