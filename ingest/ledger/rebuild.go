package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/atomicfile"
)

// Source is the part of the object store a rebuild reads: the raw
// archive's sidecars.
type Source interface {
	List(ctx context.Context, prefix string) ([]string, error)
	Get(ctx context.Context, key string) (io.ReadCloser, error)
}

// RebuildOptions says what a rebuild cannot read from the sidecars.
type RebuildOptions struct {
	// Fingerprint is the fingerprint (l.Fingerprint) of the credential
	// platform/credential as the current config has it; false when the
	// config has no such credential. Nil leaves every CredFP empty.
	Fingerprint func(l *Ledger, platform, credential string) (string, bool)
	// NextAttempt is the harvest policy's next attempt for a unit in
	// state st after attempts attempts, the last at at. Nil leaves it zero.
	NextAttempt func(st bibstat.State, attempts int, at time.Time) time.Time
}

// What a rebuilt entry holds, and what it cannot: every harvest that got
// a response archived it with a sidecar, so the sidecars of a unit, in key
// (= harvest time) order, replay what the harvest recorded:
//
//   - State, LastError, HTTPStatus, Library, UpdatedAt: the newest
//     sidecar's state, error, status, library and harvest time.
//   - RawKey: the harvest's own rule replayed (the newest loadable harvest,
//     unless the newest two were not loadable).
//   - Attempts: the harvests since the last ok or zero. A transport failure
//     (no response: refused, timed out) writes no sidecar, so it is not
//     counted, and a unit whose every attempt was one is not in the rebuilt
//     ledger at all: the next harvest asks for it as for a new unit.
//   - Code: the exception code the harvest put at the head of its error
//     ("sushi exception 3031 ...", "3040 Partial Data Returned"), the only
//     place the sidecar keeps it.
//   - NextAttempt: recomputed by the policy from the state, the attempts and
//     the harvest time (opts.NextAttempt); a vendor's Retry-After is not in
//     the sidecar, so a throttled unit gets the policy's own backoff.
//   - CredFP: the fingerprint of the credential as configured now, under the
//     ledger's key (opts.Fingerprint), so the next harvest takes the
//     credential as unchanged since its last harvest: a credentials_broken
//     unit stays skipped until the credential changes, as before the loss.
//     A credential fixed after it broke and before the rebuild is taken as
//     unchanged too: --force asks again. A credential no longer configured
//     keeps no fingerprint.
//
// Uploads are not harvest units and have no ledger entries.

// Rebuild reconstructs the ledger at path from the sidecars in src: it
// writes a new journal beside it and renames it into place, so a reader
// sees the old ledger or the new, never half of one. It returns the number
// of units. It must not run while a harvest appends to path.
func Rebuild(ctx context.Context, src Source, path string, o RebuildOptions) (int, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, fmt.Errorf("rebuild ledger: %w", err)
	}
	key, err := fingerprintKey(path + ".key")
	if err != nil {
		return 0, err
	}
	sides, err := readSidecars(ctx, src)
	if err != nil {
		return 0, err
	}
	l := &Ledger{path: path, entries: newEntrySet(), fpKey: key}
	for _, s := range sides {
		if err := l.replaySidecar(s, o); err != nil {
			return 0, err
		}
	}
	var buf bytes.Buffer
	for _, e := range l.All() {
		b, err := json.Marshal(e)
		if err != nil {
			return 0, fmt.Errorf("rebuild ledger: %w", err)
		}
		buf.Write(append(b, '\n'))
	}
	if err := writeReplace(path, buf.Bytes()); err != nil {
		return 0, err
	}
	return l.Len(), nil
}

// RebuildIfMissing rebuilds the ledger at path from src when the file does
// not exist and src holds harvested sidecars: a lost ledger is not "nothing
// harvested". It reports whether it rebuilt, and how many units.
func RebuildIfMissing(ctx context.Context, src Source, path string, o RebuildOptions) (bool, int, error) {
	if _, err := os.Stat(path); err == nil || !errors.Is(err, os.ErrNotExist) {
		return false, 0, nil // present, or unreadable: Open says why
	}
	keys, err := src.List(ctx, sushiPrefix)
	if err != nil {
		return false, 0, fmt.Errorf("rebuild ledger: list %s: %w", sushiPrefix, err)
	}
	if !hasSidecar(keys) {
		return false, 0, nil // a new installation: nothing to rebuild
	}
	n, err := Rebuild(ctx, src, path, o)
	return err == nil, n, err
}

const sushiPrefix = bibstat.RawPrefix + "sushi/"

func hasSidecar(keys []string) bool {
	for _, k := range keys {
		if bibstat.IsSidecar(k) {
			return true
		}
	}
	return false
}

// readSidecars reads every harvest sidecar under raw/sushi/, in key order
// (List sorts, and a unit's keys sort by harvest time). Reads run a few at
// a time: on S3 each is a round trip.
func readSidecars(ctx context.Context, src Source) ([]bibstat.Sidecar, error) {
	all, err := src.List(ctx, sushiPrefix)
	if err != nil {
		return nil, fmt.Errorf("rebuild ledger: list %s: %w", sushiPrefix, err)
	}
	var keys []string
	for _, k := range all {
		if bibstat.IsSidecar(k) {
			keys = append(keys, k)
		}
	}
	out := make([]bibstat.Sidecar, len(keys))
	errs := make([]error, len(keys))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(16, len(keys)) {
		wg.Go(func() {
			for i := range next {
				out[i], errs[i] = readSidecar(ctx, src, keys[i])
			}
		})
	}
	for i := range keys {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func readSidecar(ctx context.Context, src Source, key string) (bibstat.Sidecar, error) {
	rc, err := src.Get(ctx, key)
	if err != nil {
		return bibstat.Sidecar{}, fmt.Errorf("rebuild ledger: %s: %w", key, err)
	}
	defer rc.Close()
	s, err := bibstat.DecodeSidecar(rc)
	if err != nil {
		return bibstat.Sidecar{}, fmt.Errorf("rebuild ledger: %s: %w", key, err)
	}
	return s, nil
}

// replaySidecar applies one harvest, as the harvest recorded it, to the
// entry of its unit. A sidecar that names no valid unit, or another unit
// than its key's folder, is an error: the archive is not what it should be.
func (l *Ledger) replaySidecar(s bibstat.Sidecar, o RebuildOptions) error {
	m, err := bibstat.ParseMonth(s.Month)
	if err != nil {
		return fmt.Errorf("rebuild ledger: sidecar %s: %w", s.Key, err)
	}
	u := bibstat.Unit{Platform: s.Platform, Credential: s.Credential, Report: s.Report, Month: m}
	if err := u.Check(); err != nil {
		return fmt.Errorf("rebuild ledger: sidecar %s: %w", s.Key, err)
	}
	if s.Source != "sushi" || bibstat.UnitPrefixOf(s.Key) != u.UnitPrefix() {
		return fmt.Errorf("rebuild ledger: sidecar %s names unit %s: %w", s.Key, u, bibstat.ErrBadKey)
	}
	prev, _ := l.entries.get(u)
	e := Entry{Platform: u.Platform, Credential: u.Credential, Library: s.Library, Report: u.Report, Month: s.Month,
		State: s.State, Attempts: prev.Attempts + 1, LastError: s.Error, Code: codeOf(s.Error), HTTPStatus: s.Status,
		RawKey: prev.RawKey, UpdatedAt: s.HarvestedAt}
	if s.State.Loadable() || prev.RawKey == "" || !prev.State.Loadable() {
		e.RawKey = s.Key // as the harvest: keep the last loadable harvest when a refresh fails
	}
	if s.State == bibstat.StateOK || s.State == bibstat.StateZero {
		e.Attempts = 0
	}
	if o.NextAttempt != nil {
		e.NextAttempt = o.NextAttempt(e.State, e.Attempts, e.UpdatedAt)
	}
	if o.Fingerprint != nil {
		e.CredFP, _ = o.Fingerprint(l, u.Platform, u.Credential)
	}
	l.entries.put(&e)
	return nil
}

// codeOf is the COUNTER exception code at the head of a harvest's error, 0
// if none: the harvest writes "sushi exception NNNN ..." (counter.Exception)
// or "3040 Partial Data Returned".
func codeOf(msg string) int {
	msg = strings.TrimPrefix(msg, "sushi exception ")
	digits, _, _ := strings.Cut(msg, " ")
	if len(digits) != 4 {
		return 0
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// writeReplace writes b to a temporary file beside path, syncs it and
// renames it over path.
func writeReplace(path string, b []byte) error {
	if err := atomicfile.Write(path, b, 0o644); err != nil {
		return fmt.Errorf("rebuild ledger: %w", err)
	}
	return nil
}
