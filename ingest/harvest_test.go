package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/counter"
	"github.com/bibliotek24/bibstat/ingest/ledger"
	"github.com/bibliotek24/bibstat/ingest/sushi"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/internal/sushisim"
)

var (
	jan = bibstat.Month{Year: 2025, Mon: 1}
	feb = bibstat.Month{Year: 2025, Mon: 2}
	mar = bibstat.Month{Year: 2025, Mon: 3}
)

func testWorld(faults ...sushisim.Fault) *sushisim.Config {
	return &sushisim.Config{
		Seed:      7,
		Platforms: []sushisim.Platform{{ID: "avis", Name: "Avis", DataType: "Newspaper_or_Newsletter", Scale: 40}},
		Libraries: []sushisim.Library{
			{ID: "2030100", Name: "Oslo", Municipality: "0301", Population: 50000},
			{ID: "2120100", Name: "Bergen", Municipality: "4601", Population: 30000},
		},
		First: jan, Last: bibstat.Month{Year: 2025, Mon: 12},
		Faults: faults,
	}
}

// rig is a simulator, a store, a ledger and a harvester wired together.
type rig struct {
	world *sushisim.Config
	srv   *httptest.Server
	st    *store.Memory
	led   *ledger.Ledger
	h     *Harvester
	hits  *hitCounter
}

// hitCounter counts the requests the harvester's client wrote to a
// connection and those the server began and finished handling.
type hitCounter struct {
	mu      sync.Mutex
	changed *sync.Cond // a request was written or handled
	n       int        // began
	handled int        // finished
	sent    int        // written
}

func newHitCounter() *hitCounter {
	h := &hitCounter{}
	h.changed = sync.NewCond(&h.mu)
	return h
}

// get is how many requests the server began handling.
func (h *hitCounter) get() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

func (h *hitCounter) began() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n++
}

func (h *hitCounter) finished() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.handled++
	h.changed.Broadcast()
}

func (h *hitCounter) wrote() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sent++
	h.changed.Broadcast()
}

// settle waits until the server has finished handling every request the
// client wrote, such as one a cancelled run wrote just before it returned
// and the server had not read yet. A request written but never handled
// hangs here until go test's -timeout, whose dump names this wait.
func (h *hitCounter) settle() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.handled < h.sent {
		h.changed.Wait()
	}
}

func newRig(t *testing.T, release string, faults ...sushisim.Fault) *rig {
	t.Helper()
	world := testWorld(faults...)
	hits := newHitCounter()
	inner := world.Handler("avis")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.began()
		defer hits.finished()
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	led, err := ledger.Open(filepath.Join(t.TempDir(), "ledger.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { led.Close() })
	st := store.NewMemory()
	pol := DefaultPolicy
	pol.QueuedDelay, pol.ThrottleDelay, pol.Jitter = 5*time.Millisecond, 5*time.Millisecond, 0
	tr := countingTransport(hits)
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return sushi.GateConn(c), nil // paced at the socket, as the harvest's own transport is
	}
	h := &Harvester{Store: st, Ledger: led, Policy: pol,
		Fetcher: &sushi.Client{HTTP: &http.Client{Timeout: 300 * time.Millisecond, Transport: tr}}}
	r := &rig{world: world, srv: srv, st: st, led: led, h: h, hits: hits}
	_ = release
	return r
}

func (r *rig) cred(lib bibstat.LibraryID, release string) sushi.Credential {
	return sushi.Credential{ID: string(lib), Platform: "avis", Library: lib, BaseURL: r.srv.URL, Release: release,
		CustomerID: r.world.CustomerID(lib), APIKey: r.world.APIKey("avis", lib)}
}

func (r *rig) jobs(lib bibstat.LibraryID, release string, months ...bibstat.Month) []Job {
	var out []Job
	for _, m := range months {
		out = append(out, Job{Unit: bibstat.Unit{Platform: "avis", Credential: string(lib), Report: "pr", Month: m}, Cred: r.cred(lib, release)})
	}
	return out
}

// loaded sums by metric what the warehouse will load for the unit: its
// ledger raw object read with the COUNTER reader, or nil when the sidecar
// says it is not loadable. The harvest stores no parsed rows of its own.
func (r *rig) loaded(t *testing.T, u bibstat.Unit) map[string]int64 {
	t.Helper()
	e, ok := r.led.Get(u)
	if !ok || e.RawKey == "" {
		return nil
	}
	b, err := store.ReadAll(context.Background(), r.st, e.RawKey+bibstat.SidecarSuffix, 1<<20)
	if err != nil {
		t.Fatalf("sidecar of %s: %v", u, err)
	}
	var side bibstat.Sidecar
	if err := json.Unmarshal(b, &side); err != nil {
		t.Fatal(err)
	}
	if keys, _ := r.st.List(context.Background(), bibstat.ParsedPrefix); len(keys) > 0 {
		t.Errorf("the harvest stored parsed objects %v; the warehouse parses raw objects itself", keys)
	}
	if !side.Loadable() {
		return nil
	}
	raw, err := store.ReadAll(context.Background(), r.st, side.Key, 1<<24)
	if err != nil {
		t.Fatalf("raw of %s: %v", u, err)
	}
	doc, err := counter.Read(context.Background(), bytes.NewReader(raw), counter.Options{Name: side.Key},
		func(rec arrow.RecordBatch) error { rec.Release(); return nil })
	if err != nil {
		t.Fatalf("%s is loadable but does not read: %v", u, err)
	}
	out := map[string]int64{}
	for m, n := range doc.Totals {
		out[m] += n
	}
	return out
}

func TestHarvestFaults(t *testing.T) {
	lib := bibstat.LibraryID("2030100")
	f := func(kind sushisim.FaultKind, times int) sushisim.Fault {
		return sushisim.Fault{Platform: "avis", Library: lib, Month: jan, Kind: kind, Times: times}
	}
	tests := []struct {
		name      string
		fault     sushisim.Fault
		want      bibstat.State
		loadable  bool
		wantUsage bool // the loaded numbers are the simulator's
		requests  int  // requests for the January unit; 0: don't check
		retryDue  bool // NextAttempt set
	}{
		{"healthy", sushisim.Fault{Kind: sushisim.FaultLatency, Library: "none"}, bibstat.StateOK, true, true, 1, false},
		{"latency", sushisim.Fault{Platform: "avis", Library: lib, Month: jan, Kind: sushisim.FaultLatency, Delay: 30 * time.Millisecond}, bibstat.StateOK, true, true, 1, false},
		{"queued then ready", f(sushisim.FaultQueued, 2), bibstat.StateOK, true, true, 3, false},
		{"queued for ever", f(sushisim.FaultQueued, 0), bibstat.StateQueued, false, false, DefaultPolicy.QueuedTries, true},
		{"not ready", f(sushisim.FaultNotReady, 1), bibstat.StateNotReady, false, false, 1, true},
		{"no usage 3030", f(sushisim.FaultNoUsage, 0), bibstat.StateZero, true, false, 1, false},
		{"429 then ready", sushisim.Fault{Platform: "avis", Library: lib, Month: jan, Kind: sushisim.FaultTooMany, Times: 1, RetryAfter: time.Second}, bibstat.StateOK, true, true, 2, false},
		{"503 busy then ready", f(sushisim.FaultBusy, 1), bibstat.StateOK, true, true, 2, false},
		{"500", f(sushisim.FaultServerError, 0), bibstat.StateFailed, false, false, 1, true},
		{"html under 200", f(sushisim.FaultHTML, 0), bibstat.StateFailed, false, false, 1, true},
		{"truncated", f(sushisim.FaultTruncated, 0), bibstat.StateFailed, false, false, 1, true},
		{"empty body", f(sushisim.FaultEmpty, 0), bibstat.StateFailed, false, false, 1, true},
		{"slow body", sushisim.Fault{Platform: "avis", Library: lib, Month: jan, Kind: sushisim.FaultSlowBody, Delay: time.Second}, bibstat.StateFailed, false, false, 1, true},
		{"wrong months", f(sushisim.FaultWrongMonths, 0), bibstat.StateFailed, false, false, 1, true},
		{"wrong customer", f(sushisim.FaultWrongCustomer, 0), bibstat.StateFailed, false, false, 1, true},
		{"bad key", f(sushisim.FaultBadKey, 0), bibstat.StateCredentialsBroken, false, false, 1, false},
		{"unsupported", f(sushisim.FaultUnsupported, 0), bibstat.StateUnsupported, false, false, 1, false},
		{"partial 3040", f(sushisim.FaultPartial, 0), bibstat.StatePartial, true, true, 1, true},
	}
	for _, rel := range []string{"5.1", "5"} {
		for _, tc := range tests {
			t.Run(rel+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				r := newRig(t, rel, tc.fault)
				start := time.Now()
				sum, err := r.h.Run(context.Background(), r.jobs(lib, rel, jan, feb, mar))
				if err != nil {
					t.Fatalf("run: %v", err)
				}
				u := bibstat.Unit{Platform: "avis", Credential: string(lib), Report: "pr", Month: jan}
				e, ok := r.led.Get(u)
				if !ok || e.State != tc.want {
					t.Fatalf("state %q (%s), want %s", e.State, e.LastError, tc.want)
				}
				if tc.want != bibstat.StateOK && tc.want != bibstat.StateZero && e.LastError == "" {
					t.Errorf("state %s without a reason", e.State)
				}
				if got := !e.NextAttempt.IsZero(); got != tc.retryDue {
					t.Errorf("next attempt %v, want set=%v", e.NextAttempt, tc.retryDue)
				}
				got := r.loaded(t, u)
				if (got != nil) != tc.loadable {
					t.Fatalf("loadable = %v, want %v", got != nil, tc.loadable)
				}
				if tc.wantUsage {
					want := r.world.Usage("avis", lib, jan)
					for m, n := range want {
						if got[m] != n {
							t.Errorf("loaded %s = %d, want %d", m, got[m], n)
						}
					}
				}
				if tc.fault.Kind == sushisim.FaultTooMany && time.Since(start) < time.Second {
					t.Errorf("Retry-After 1s not honoured: run took %v", time.Since(start))
				}
				if tc.want == bibstat.StateCredentialsBroken {
					// The credential's other months are skipped in the run.
					if _, ok := r.led.Get(bibstat.Unit{Platform: "avis", Credential: string(lib), Report: "pr", Month: feb}); ok {
						t.Errorf("February was fetched after the credential broke")
					}
					if sum.Deferred != 2 {
						t.Errorf("deferred %d, want 2", sum.Deferred)
					}
				} else {
					// An unsupported report is not asked for its other months either.
					want := bibstat.StateOK
					if tc.want == bibstat.StateUnsupported {
						want = tc.want
					}
					for _, m := range []bibstat.Month{feb, mar} {
						if e, _ := r.led.Get(bibstat.Unit{Platform: "avis", Credential: string(lib), Report: "pr", Month: m}); e.State != want {
							t.Errorf("%s: state %s, want %s (%s)", m, e.State, want, e.LastError)
						}
					}
				}
				others := 2
				if tc.want == bibstat.StateCredentialsBroken || tc.want == bibstat.StateUnsupported {
					others = 0
				}
				if tc.requests > 0 && sum.Requests-others != tc.requests {
					t.Errorf("requests for January %d, want %d", sum.Requests-others, tc.requests)
				}
			})
		}
	}
}

func TestNotReadyThenReadyAcrossRuns(t *testing.T) {
	lib := bibstat.LibraryID("2030100")
	r := newRig(t, "5.1", sushisim.Fault{Kind: sushisim.FaultNotReady, Times: 1})
	now := time.Date(2025, 2, 3, 2, 0, 0, 0, time.UTC)
	r.h.Now = func() time.Time { return now }
	jobs := r.jobs(lib, "5.1", jan)
	if _, err := r.h.Run(context.Background(), jobs); err != nil {
		t.Fatal(err)
	}
	u := jobs[0].Unit
	if e, _ := r.led.Get(u); e.State != bibstat.StateNotReady || e.NextAttempt.Sub(now) < 12*time.Hour {
		t.Fatalf("after 3031: %s next %v, want not_ready in about a day", e.State, e.NextAttempt)
	}
	// The same night again: not due, nothing fetched.
	sum, err := r.h.Run(context.Background(), jobs)
	if err != nil || sum.Requests != 0 || sum.SkipReasons[SkipNotDue] != 1 {
		t.Fatalf("rerun before due: %+v %v", sum, err)
	}
	now = now.Add(48 * time.Hour)
	if _, err := r.h.Run(context.Background(), jobs); err != nil {
		t.Fatal(err)
	}
	if e, _ := r.led.Get(u); e.State != bibstat.StateOK || e.Attempts != 0 {
		t.Fatalf("two days later: %+v", e)
	}
	// Already ok: a rerun fetches nothing.
	sum, _ = r.h.Run(context.Background(), jobs)
	if sum.Requests != 0 || sum.SkipReasons[SkipFinal] != 1 {
		t.Fatalf("rerun when ok: %+v", sum)
	}
}

func TestBrokenCredentialStaysStoppedUntilItChanges(t *testing.T) {
	lib := bibstat.LibraryID("2030100")
	r := newRig(t, "5.1")
	jobs := r.jobs(lib, "5.1", jan, feb)
	for i := range jobs {
		jobs[i].Cred.APIKey = "wrong-key"
	}
	if _, err := r.h.Run(context.Background(), jobs); err != nil {
		t.Fatal(err)
	}
	hits := r.hits.get()
	sum, _ := r.h.Run(context.Background(), jobs)
	if r.hits.get() != hits || sum.SkipReasons[SkipBroken] != 2 {
		t.Fatalf("broken credential retried: hits %d→%d, %+v", hits, r.hits.get(), sum)
	}
	good := r.jobs(lib, "5.1", jan, feb)
	sum, _ = r.h.Run(context.Background(), good)
	if sum.States[bibstat.StateOK] != 2 {
		t.Fatalf("after fixing the key: %+v", sum)
	}
	// Nothing secret in the ledger or the archive.
	assertNoSecret(t, r, "wrong-key", r.world.APIKey("avis", lib))
}

func assertNoSecret(t *testing.T, r *rig, secrets ...string) {
	t.Helper()
	keys, _ := r.st.List(context.Background(), "")
	for _, k := range keys {
		if !bibstat.IsSidecar(k) {
			continue
		}
		b, _ := store.ReadAll(context.Background(), r.st, k, 1<<20)
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("sidecar %s holds a secret", k)
			}
		}
	}
	for _, e := range r.led.All() {
		b, _ := json.Marshal(e)
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("ledger entry %s holds a secret", e.Unit())
			}
		}
	}
}

// failingStore fails every Put after the first n.
type failingStore struct {
	*store.Memory
	mu sync.Mutex
	n  int
}

func (f *failingStore) Put(ctx context.Context, key string, rd io.Reader) error {
	f.mu.Lock()
	f.n--
	n := f.n
	f.mu.Unlock()
	if n < 0 {
		return errors.New("connection refused")
	}
	return f.Memory.Put(ctx, key, rd)
}

func TestStoreDownStopsCleanly(t *testing.T) {
	lib := bibstat.LibraryID("2030100")
	for _, n := range []int{0, 1, 2, 3, 4} { // fail at the raw or the sidecar Put of the first, second, third unit
		r := newRig(t, "5.1")
		fs := &failingStore{Memory: r.st, n: n}
		r.h.Store = fs
		_, err := r.h.Run(context.Background(), r.jobs(lib, "5.1", jan, feb, mar))
		if !errors.Is(err, bibstat.ErrStoreUnavailable) {
			t.Fatalf("n=%d: err = %v, want ErrStoreUnavailable", n, err)
		}
		for _, e := range r.led.All() {
			if !e.State.Loadable() {
				continue
			}
			for _, k := range []string{e.RawKey, e.RawKey + bibstat.SidecarSuffix} {
				if _, err := r.st.Get(context.Background(), k); err != nil {
					t.Errorf("n=%d: %s is %s but %s was not stored", n, e.Unit(), e.State, k)
				}
			}
		}
		if n < 2 && len(r.led.All()) != 0 { // a unit is two Puts: raw, then sidecar
			t.Errorf("n=%d: %d ledger entries, want none", n, len(r.led.All()))
		}
	}
}

func TestInterruptedRunResumes(t *testing.T) {
	lib := bibstat.LibraryID("2030100")
	r := newRig(t, "5.1")
	r.h.Spacing = 10 * time.Millisecond
	months := bibstat.MonthsBetween(jan, bibstat.Month{Year: 2025, Mon: 12})
	jobs := append(r.jobs(lib, "5.1", months...), r.jobs("2120100", "5.1", months...)...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Millisecond)
	defer cancel()
	first, err := r.h.Run(ctx, jobs)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("interrupted run: err %v", err)
	}
	if first.Fetched == 0 || first.Fetched >= len(jobs) {
		t.Fatalf("interrupted run fetched %d of %d", first.Fetched, len(jobs))
	}
	r.hits.settle()
	hits := r.hits.get()
	second, err := r.h.Run(context.Background(), jobs)
	if err != nil {
		t.Fatal(err)
	}
	r.hits.settle()
	if second.SkipReasons[SkipFinal] != first.States[bibstat.StateOK] || second.States[bibstat.StateOK] != len(jobs)-first.States[bibstat.StateOK] {
		t.Fatalf("resume: first %+v second %+v", first, second)
	}
	if r.hits.get()-hits != second.Requests {
		t.Fatalf("server saw %d requests, harvester made %d", r.hits.get()-hits, second.Requests)
	}
}

func TestUnreachableHostIsDeferred(t *testing.T) {
	lib := bibstat.LibraryID("2030100")
	r := newRig(t, "5.1")
	r.srv.Close()
	months := bibstat.MonthsBetween(jan, bibstat.Month{Year: 2025, Mon: 12})
	sum, err := r.h.Run(context.Background(), r.jobs(lib, "5.1", months...))
	if err != nil {
		t.Fatal(err)
	}
	if sum.States[bibstat.StateFailed] != maxTransportFailures || sum.Deferred != len(months)-maxTransportFailures {
		t.Fatalf("summary %+v", sum)
	}
}
