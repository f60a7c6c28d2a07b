package report

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// downloadRecord is what a build wrote for each scope's downloads: the
// digest of everything they were made from, and each file as it was left
// (size and modification time). A build whose digest for a scope is the
// one recorded, and whose files are still as recorded, does not make them
// again: on a night with few changes most of a build was remaking the same
// downloads to find them unchanged. It is kept beside the site, not in it,
// so that it is never published.
type downloadRecord struct {
	mu     sync.Mutex
	path   string
	old    map[string]scopeRecord // as the last build left them
	now    map[string]scopeRecord // this build's
	digest []byte                 // the build's inputs shared by every scope
	libs   map[string]string      // per run key, the digest of a library's rows, this build's
}

type scopeRecord struct {
	Digest string       `json:"digest"`
	Files  []fileRecord `json:"files"`
}

type fileRecord struct {
	Name    string `json:"name"`
	Size    int64  `json:"size"`
	ModTime int64  `json:"mod_time_ns"`
}

// downloadsRecordPath is where the record of out's downloads is kept.
func downloadsRecordPath(out string) string {
	return filepath.Clean(out) + ".downloads.json"
}

// openDownloadRecord reads the last build's record, if any (a record that
// cannot be read is as none: every download is made), for a build whose
// words are m and whose platforms are named by names.
func openDownloadRecord(out string, m messages, names map[string]string) *downloadRecord {
	r := &downloadRecord{path: downloadsRecordPath(out), old: map[string]scopeRecord{}, now: map[string]scopeRecord{}, libs: map[string]string{}}
	if b, err := os.ReadFile(r.path); err == nil {
		if json.Unmarshal(b, &r.old) != nil {
			r.old = map[string]scopeRecord{}
		}
	}
	h := sha256.New()
	// The program itself: another build of bibstat may write other bytes
	// from the same rows, so its downloads are all made again once.
	if exe, err := os.Executable(); err == nil {
		if fi, err := os.Stat(exe); err == nil {
			fmt.Fprintf(h, "%s\x00%d\x00%d\x00", exe, fi.Size(), fi.ModTime().UnixNano())
		}
	}
	// fmt prints maps sorted by key: the same words, the same text.
	fmt.Fprintf(h, "%#v\x00%#v\x00", m, names)
	r.digest = h.Sum(nil)
	return r
}

// scopeDigest is the digest of a scope's downloads' inputs: the build's
// (r.digest), the scope, every row of the usage downloads, and the COUNTER
// file's rows and time (whether it has any rows: has). The runs say which
// rows are a library's: each library's are digested once per build, and
// its digest stands for them in its county's and the nation's, which were
// a library's rows digested three times over.
func (r *downloadRecord) scopeDigest(sc Scope, rows iter.Seq[libraryUsage], n int, runs []sheetRun, crows []counterRow, created time.Time, has bool) string {
	d := newDigester(r.digest)
	for _, s := range []string{sc.Kind, sc.ID, sc.Name, sc.ISIL, sc.FileStem, sc.Directory} {
		d.str(s)
	}
	d.int(int64(n))
	next, left := 0, 0 // the next run, and the rows left of this one
	var lib *digester  // this run's, unless its digest is known
	var key string
	for row := range rows {
		for left == 0 && next < len(runs) {
			key, left, lib = runs[next].key, runs[next].n, nil
			next++
			if known, ok := r.library(key); ok {
				d.str(known)
			} else {
				lib = newDigester(nil)
			}
		}
		if left == 0 { // after the libraries: rows of no library
			d.str(row.ID)
			d.str(row.Name)
			d.usage(row.usageRow)
			continue
		}
		left--
		if lib == nil {
			continue
		}
		lib.str(row.ID)
		lib.str(row.Name)
		lib.usage(row.usageRow)
		if left == 0 {
			d.str(r.learn(key, lib.sum()))
		}
	}
	if lib != nil && left > 0 { // fewer rows than the runs said
		d.str(lib.sum())
		d.int(int64(left))
	}
	d.int(int64(len(crows)))
	for _, c := range crows {
		d.str(c.Platform)
		d.str(c.DataType)
		d.str(c.Metric)
		d.int(c.Month.UnixNano())
		d.int(c.Count)
	}
	d.int(created.UnixNano())
	d.int(int64(boolIndex(has)))
	return d.sum()
}

// library is the digest of the library's rows under key, when this
// build made it.
func (r *downloadRecord) library(key string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d, ok := r.libs[key]
	return d, ok
}

// learn keeps the digest of the library's rows under key, and returns it.
func (r *downloadRecord) learn(key, digest string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.libs[key] = digest
	return digest
}

// unchanged says whether the scope's files (names under dir) were made
// from inputs of this digest and are still as that build left them.
func (r *downloadRecord) unchanged(key, digest, dir string, names []string) bool {
	if r == nil {
		return false
	}
	r.mu.Lock()
	old, ok := r.old[key]
	r.mu.Unlock()
	if !ok || old.Digest != digest || len(old.Files) != len(names) {
		return false
	}
	for i, f := range old.Files {
		fi, err := os.Stat(filepath.Join(dir, names[i]))
		if f.Name != names[i] || err != nil || fi.Size() != f.Size || fi.ModTime().UnixNano() != f.ModTime {
			return false
		}
	}
	r.mu.Lock()
	r.now[key] = old
	r.mu.Unlock()
	return true
}

// made records the scope's files as this build left them.
func (r *downloadRecord) made(key, digest, dir string, names []string) error {
	if r == nil {
		return nil
	}
	rec := scopeRecord{Digest: digest}
	for _, n := range names {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			return fmt.Errorf("record download %s: %w", n, err)
		}
		rec.Files = append(rec.Files, fileRecord{Name: n, Size: fi.Size(), ModTime: fi.ModTime().UnixNano()})
	}
	r.mu.Lock()
	r.now[key] = rec
	r.mu.Unlock()
	return nil
}

// save writes this build's record in place of the last one's; a scope the
// build did not reach is not in it, so its downloads are made next time.
func (r *downloadRecord) save() error {
	if r == nil {
		return nil
	}
	b, err := json.Marshal(r.now)
	if err != nil {
		return err
	}
	return writeFileAtomic(r.path, b)
}
