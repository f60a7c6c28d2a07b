package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"sort"
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
	// Refresh fetches the unit even if the ledger has it final (ok or zero):
	// vendors restate recent months.
	Refresh bool
}

// Harvester runs jobs against vendors politely and archives every answer.
type Harvester struct {
	Store   ObjectStore
	Ledger  *ledger.Ledger
	Fetcher Fetcher
	Log     *slog.Logger
	// Spacing is the least time between two requests to one host.
	Spacing time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Summary counts what a harvest did.
type Summary struct {
	Jobs    int
	Skipped int                   // already final in the ledger
	Fetched int                   // requests made
	States  map[bibstat.State]int // state of each fetched unit
	Bytes   int64                 // raw bytes archived
}

// Run harvests jobs and returns what it did. One vendor failing does not
// stop the others; the error is for what must stop the whole harvest (the
// object store or the ledger failing, or ctx ending).
func (h *Harvester) Run(ctx context.Context, jobs []Job) (Summary, error) {
	sum := Summary{Jobs: len(jobs), States: map[bibstat.State]int{}}
	byHost := map[string][]Job{}
	for _, j := range jobs {
		if e, ok := h.Ledger.Get(j.Unit); ok && !j.Refresh && (e.State == bibstat.StateOK || e.State == bibstat.StateZero) {
			sum.Skipped++
			continue
		}
		host := j.Cred.BaseURL
		if u, err := url.Parse(j.Cred.BaseURL); err == nil {
			host = u.Host
		}
		byHost[host] = append(byHost[host], j)
	}
	hosts := make([]string, 0, len(byHost))
	for host := range byHost {
		hosts = append(hosts, host)
	}
	sort.Strings(hosts)

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, host := range hosts {
		wg.Add(1)
		go func(jobs []Job) {
			defer wg.Done()
			var last time.Time
			for _, j := range jobs {
				if wait := h.Spacing - time.Since(last); !last.IsZero() && wait > 0 {
					select {
					case <-ctx.Done():
						return
					case <-time.After(wait):
					}
				}
				if ctx.Err() != nil {
					return
				}
				last = time.Now()
				st, n, err := h.harvestOne(ctx, j)
				if err != nil {
					cancel(err)
					return
				}
				mu.Lock()
				sum.Fetched++
				sum.States[st]++
				sum.Bytes += n
				mu.Unlock()
			}
		}(byHost[host])
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return sum, err
	}
	return sum, ctx.Err()
}

func (h *Harvester) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// harvestOne fetches, archives, classifies and records one unit. Its error
// is fatal to the harvest; a vendor's failure is a state, not an error.
func (h *Harvester) harvestOne(ctx context.Context, j Job) (bibstat.State, int64, error) {
	u := j.Unit
	prev, _ := h.Ledger.Get(u)
	entry := ledger.Entry{Platform: u.Platform, Credential: u.Credential, Library: j.Cred.Library,
		Report: u.Report, Month: u.Month.String(), Attempts: prev.Attempts + 1, RawKey: prev.RawKey}

	resp, err := h.Fetcher.Report(ctx, j.Cred, u.Report, u.Month, u.Month)
	if err != nil {
		if ctx.Err() != nil {
			return "", 0, ctx.Err()
		}
		entry.State, entry.LastError, entry.UpdatedAt = bibstat.StateFailed, err.Error(), h.now()
		h.Log.Warn("harvest failed", "unit", u.String(), "error", err)
		return entry.State, 0, h.record(entry)
	}

	at := h.now()
	rawKey := u.RawKey(at, "json")
	if err := h.Store.Put(ctx, rawKey, bytes.NewReader(resp.Body)); err != nil {
		return "", 0, fmt.Errorf("archive %s: %w", u, err)
	}
	out := classify(ctx, u, rawKey, resp)
	sum := sha256.Sum256(resp.Body)
	side := bibstat.Sidecar{
		Key: rawKey, Source: "sushi", Platform: u.Platform, Credential: u.Credential, Library: j.Cred.Library,
		Report: u.Report, Month: u.Month.String(), URL: resp.URL, Status: resp.Status, ContentType: resp.ContentType,
		SHA256: hex.EncodeToString(sum[:]), Size: int64(len(resp.Body)), HarvestedAt: at.UTC(),
		State: out.state, Error: out.err, Release: out.release, Rows: out.rows,
	}
	if out.state.Loadable() {
		side.ParsedKey, side.ParserVersion = bibstat.ParsedKey(rawKey, schemas.Version), schemas.Version
		if err := h.Store.Put(ctx, side.ParsedKey, bytes.NewReader(out.parquet)); err != nil {
			return "", 0, fmt.Errorf("archive parsed %s: %w", u, err)
		}
	}
	meta, err := json.MarshalIndent(side, "", "  ")
	if err != nil {
		return "", 0, fmt.Errorf("sidecar %s: %w", u, err)
	}
	if err := h.Store.Put(ctx, rawKey+bibstat.SidecarSuffix, bytes.NewReader(meta)); err != nil {
		return "", 0, fmt.Errorf("archive sidecar %s: %w", u, err)
	}
	entry.State, entry.LastError, entry.RawKey, entry.UpdatedAt = out.state, out.err, rawKey, at
	if out.state == bibstat.StateOK || out.state == bibstat.StateZero {
		entry.Attempts = 0
	}
	h.Log.Debug("harvested", "unit", u.String(), "state", string(out.state), "rows", out.rows)
	return out.state, side.Size, h.record(entry)
}

func (h *Harvester) record(e ledger.Entry) error {
	if err := h.Ledger.Record(e); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	return nil
}
