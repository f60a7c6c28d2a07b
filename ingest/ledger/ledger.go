package ledger

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/keyfile"
)

// Entry is the latest known state of one unit.
type Entry struct {
	Platform    string            `json:"platform"`
	Credential  string            `json:"credential"`
	Library     bibstat.LibraryID `json:"library,omitempty"`
	Report      bibstat.ReportID  `json:"report"`
	Month       string            `json:"month"`
	State       bibstat.State     `json:"state"`
	Attempts    int               `json:"attempts"`
	LastError   string            `json:"last_error,omitempty"`
	Code        int               `json:"code,omitempty"`        // the COUNTER exception code behind State, if any
	HTTPStatus  int               `json:"http_status,omitempty"` // the vendor's HTTP status, if a response came
	CredFP      string            `json:"cred_fp,omitempty"`     // fingerprint of the credential used (never the secret)
	NextAttempt time.Time         `json:"next_attempt,omitzero"`
	RawKey      string            `json:"raw_key,omitempty"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

// Unit is the unit the entry is about.
func (e Entry) Unit() bibstat.Unit {
	m, _ := bibstat.ParseMonth(e.Month)
	return bibstat.Unit{Platform: e.Platform, Credential: e.Credential, Report: e.Report, Month: m}
}

// Ledger is the journal and its replayed state.
type Ledger struct {
	mu      sync.Mutex
	f       *os.File
	path    string
	entries *entrySet
	written uint64 // lines appended, under mu

	syncMu sync.Mutex
	synced uint64 // lines known on disk, under syncMu

	interval time.Duration // 0: every Record syncs
	fpKey    []byte        // HMAC key of credential fingerprints (Fingerprint)
	fpHashes sync.Pool     // of hash.Hash: HMACs under fpKey, reset
	stop     chan struct{}
	stopped  chan struct{}
}

// SetSyncInterval makes Record return once its line is written, and a
// background goroutine fsync the journal every d while lines are pending
// (and Sync and Close fsync at once). A crash then loses at most the last
// d of changes, whose units are simply harvested again; in exchange a
// harvest of many hosts does not queue behind the disk. d = 0 (the
// default) syncs every Record before it returns.
func (l *Ledger) SetSyncInterval(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stop != nil || d <= 0 {
		return
	}
	l.interval = d
	stop, stopped := make(chan struct{}), make(chan struct{})
	l.stop, l.stopped = stop, stopped
	go func() {
		defer close(stopped)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				_ = l.Sync() // a failure shows on the next Sync or Close
			}
		}
	}()
}

// Sync writes every recorded line to disk.
func (l *Ledger) Sync() error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.mu.Lock()
	upto := l.written
	l.mu.Unlock()
	if l.synced >= upto {
		return nil
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("ledger sync: %w", err)
	}
	l.synced = upto
	return nil
}

// Open replays the journal at path, creating it if missing.
func Open(path string) (*Ledger, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	key, err := fingerprintKey(path + ".key")
	if err != nil {
		f.Close()
		return nil, err
	}
	l := &Ledger{f: f, path: path, entries: newEntrySet(), fpKey: key}
	good, err := l.replay(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	// Cut a torn last line so the next append starts on a line of its own.
	if err := f.Truncate(good); err != nil {
		f.Close()
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	return l, nil
}

// replay reads every complete line and returns the offset after the last one.
func (l *Ledger) replay(r io.Reader) (int64, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var off int64
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return off, nil // a line without its newline was torn by a crash: drop it
		}
		if err != nil {
			return 0, fmt.Errorf("read ledger %s: %w", l.path, err)
		}
		var e Entry
		if err := json.Unmarshal(bytes.TrimSpace(b), &e); err != nil {
			return 0, fmt.Errorf("read ledger %s line %d: %w", l.path, line, err)
		}
		l.entries.put(&e)
		off += int64(len(b))
	}
}

// Get returns the entry of u, if any.
func (l *Ledger) Get(u bibstat.Unit) (Entry, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.entries.get(u)
}

// Record appends e as the new state of its unit and syncs it to disk
// before returning. Concurrent Records share one fsync (group commit).
func (l *Ledger) Record(e Entry) error {
	if err := e.Unit().Check(); err != nil {
		return fmt.Errorf("ledger record: %w", err)
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("ledger record: %w", err)
	}
	l.mu.Lock()
	if _, err := l.f.Write(append(b, '\n')); err != nil {
		l.mu.Unlock()
		return fmt.Errorf("ledger record %s: %w", e.Unit(), err)
	}
	l.entries.put(&e)
	l.written++
	seq := l.written
	async := l.interval > 0
	l.mu.Unlock()
	if async {
		return nil
	}

	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	if l.synced >= seq {
		return nil // another Record's fsync covered this line
	}
	l.mu.Lock()
	upto := l.written
	l.mu.Unlock()
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("ledger record %s: %w", e.Unit(), err)
	}
	l.synced = upto
	return nil
}

// Path is the journal's file name.
func (l *Ledger) Path() string { return l.path }

// Len is the number of units in the ledger.
func (l *Ledger) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.entries.len()
}

// All returns every entry, sorted by platform, credential, report and month.
func (l *Ledger) All() []Entry {
	l.mu.Lock()
	out := make([]Entry, 0, l.entries.len())
	l.entries.each(func(e *Entry) { out = append(out, *e) })
	l.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if a.Platform != b.Platform {
			return a.Platform < b.Platform
		}
		if a.Credential != b.Credential {
			return a.Credential < b.Credential
		}
		if a.Report != b.Report {
			return a.Report < b.Report
		}
		return a.Month < b.Month
	})
	return out
}

// Each calls fn for every entry, in no order, holding the ledger's lock:
// fn must not call the ledger, and e is valid only during the call (copy
// *e to keep it).
func (l *Ledger) Each(fn func(e *Entry)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries.each(fn)
}

// Close syncs and closes the journal.
func (l *Ledger) Close() error {
	l.mu.Lock()
	stop := l.stop
	l.stop = nil
	l.mu.Unlock()
	if stop != nil {
		close(stop)
		<-l.stopped
	}
	err := l.Sync()
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ReadAll replays the journal at path without opening it for writing, as
// "bibstat status" does while a harvest appends. A missing file is an
// empty ledger.
func ReadAll(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	defer f.Close()
	l := &Ledger{path: path, entries: newEntrySet()}
	if _, err := l.replay(f); err != nil {
		return nil, err
	}
	return l.All(), nil
}

// Fingerprint identifies a credential's settings (parts) without
// revealing them: an HMAC-SHA256 under a key kept beside the journal, so
// a copied ledger alone cannot test a candidate api_key offline. The
// fingerprints of a ledger written before the key existed (unsalted
// SHA-256) never match, so its broken credentials are asked once more.
//
// The keyed hashes are kept for reuse: a national run fingerprints 11,250
// credentials before its first request and every unit after its answer,
// and a new HMAC hashes its key twice before the message.
func (l *Ledger) Fingerprint(parts ...string) string {
	h, _ := l.fpHashes.Get().(hash.Hash)
	if h == nil {
		h = hmac.New(sha256.New, l.fpKey)
	}
	var buf [256]byte
	msg := append(buf[:0], "bibstat-credential-v2"...)
	for _, p := range parts {
		msg = append(append(msg, 0), p...)
	}
	h.Write(msg)
	var sum [sha256.Size]byte
	fp := hex.EncodeToString(h.Sum(sum[:0])[:8])
	h.Reset()
	l.fpHashes.Put(h)
	return fp
}

// fingerprintKey reads the key file at path, creating it (mode 0600) with
// 32 random bytes on first use.
func fingerprintKey(path string) ([]byte, error) {
	key, err := keyfile.Load(path)
	if err != nil {
		return nil, fmt.Errorf("ledger fingerprint key: %w", err)
	}
	return key, nil
}
