package upload

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/mapping"
	"github.com/bibliotek24/bibstat/schemas"
)

// Store is what uploads need of the object store.
type Store interface {
	Put(ctx context.Context, key string, r io.Reader) error
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	List(ctx context.Context, prefix string) ([]string, error)
	Delete(ctx context.Context, key string) error
}

// FileRecordSuffix names an uploaded file's own record beside it
// (bibstat.UploadRecordSuffix).
const FileRecordSuffix = bibstat.UploadRecordSuffix

// Status is what became of one uploaded file.
type Status string

const (
	StatusLoaded    Status = "loaded"    // archived, every row mapped, units written
	StatusPartial   Status = "partial"   // archived, loaded without its rejected rows (--accept-partial)
	StatusRejected  Status = "rejected"  // archived, nothing loaded; Reason says why
	StatusDuplicate Status = "duplicate" // the same bytes were loaded before: nothing stored
)

// Ingester archives and loads uploaded files.
type Ingester struct {
	Store    Store
	Log      *slog.Logger
	Mappings map[string]*Mapping // by vendor
	By       string              // who uploads, recorded in every sidecar
	Now      func() time.Time    // nil: time.Now
	Limits   Limits

	// AcceptPartial loads a file's good rows when some cannot be mapped,
	// listing the rejected rows in the sidecars; otherwise the file is rejected.
	AcceptPartial bool
	// DryRun reads and reports but stores nothing.
	DryRun bool
}

// File is one upload.
type File struct {
	Name     string            // as uploaded; only its base and extension are used
	Data     []byte            // the bytes, exactly as received
	Vendor   string            // key segment, e.g. "avisleser"
	Platform string            // platform id for sidecars; default the vendor
	Library  bibstat.LibraryID // for files that do not name their library
}

// Outcome is what ingesting one file did (or, in a dry run, would do).
type Outcome struct {
	File      string
	Vendor    string
	Status    Status
	Reason    string // why a file was rejected, or what it duplicates
	Kind      string // "counter" or "mapping"
	Mapping   string // the mapping's file name, for "mapping"
	Release   string
	Report    string
	SHA256    string
	Size      int64
	RawKey    string // the archived file ("" in a dry run or for a duplicate)
	Rows      int64
	Units     []string // unit sidecar keys written (in a dry run: unit keys that would be)
	Months    []bibstat.Month
	Totals    map[bibstat.LibraryID]map[string]int64 // library → metric → count
	Warnings  []string
	Rejected  []Reject
	Duplicate string // the earlier upload's raw key
	DryRun    bool   // nothing was stored: Status is what would have happened
	// Changes are, in a dry run, what each unit's facts would become.
	Changes []Change

	skipped int64 // values the COUNTER reader set aside under AcceptPartial
}

func (in *Ingester) now() time.Time {
	if in.Now != nil {
		return in.Now().UTC()
	}
	return time.Now().UTC()
}

func (in *Ingester) log() *slog.Logger {
	if in.Log != nil {
		return in.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Ingest archives f byte-exact, reads it (COUNTER first, then the vendor's
// mapping), and writes one parsed object and sidecar per unit. A file
// that cannot be read is an Outcome with StatusRejected, not an error;
// errors are for the store and for a cancelled ctx.
func (in *Ingester) Ingest(ctx context.Context, f File) (*Outcome, error) {
	sum := sha256.Sum256(f.Data)
	out := &Outcome{File: f.Name, Vendor: f.Vendor, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(f.Data)),
		Totals: map[bibstat.LibraryID]map[string]int64{}, DryRun: in.DryRun}
	if err := checkFile(&f); err != nil {
		return out, err
	}
	m := in.Mappings[f.Vendor]
	mappingKey := ""
	if m != nil {
		mappingKey = bibstat.UploadMappingKey(f.Vendor, m.SHA256()[:16])
	}
	dup, err := in.findDuplicate(ctx, f.Vendor, out.SHA256, mappingKey)
	if err != nil || dup != "" {
		if dup != "" {
			out.Status, out.Duplicate = StatusDuplicate, dup
			out.Reason = "the same file (sha256 " + out.SHA256[:12] + "…) was loaded before as " + dup
		}
		return out, err
	}

	at := in.now()
	name := at.Format("20060102T150405.000000000Z") + "-" + out.SHA256[:8] + "." + extOf(f.Name)
	fileKey := bibstat.UploadFileKey(f.Vendor, name)
	if !in.DryRun {
		// Raw is sacred: the bytes are archived before anything reads them.
		if err := in.Store.Put(ctx, fileKey, bytes.NewReader(f.Data)); err != nil {
			return out, fmt.Errorf("archive %s: %w", f.Name, err)
		}
		out.RawKey = fileKey
	}
	lim := in.Limits.OrDefault()
	units := newUnits(in.DryRun, lim.MaxUnits)
	defer units.release()
	reason := in.read(ctx, f, m, fileKey, lim, units, out)
	if err := ctx.Err(); err != nil {
		return out, err
	}
	in.decide(out, units, reason)

	info := &bibstat.UploadInfo{File: fileKey, Name: path.Base(f.Name), By: in.By}
	if out.Kind == "mapping" {
		info.Mapping = mappingKey
	}
	for _, r := range out.Rejected {
		info.RejectedRows = append(info.RejectedRows, r.String())
	}
	if out.Status == StatusPartial {
		// Cells the COUNTER reader set aside (--accept-partial) are kept
		// with the rows a mapping rejected.
		info.RejectedRows = append(info.RejectedRows, out.Warnings...)
	}
	if out.Status != StatusRejected {
		for _, id := range units.written(out.Status) {
			out.Units = append(out.Units, id.dir(f.Vendor)+name)
		}
	}
	if in.DryRun {
		if out.Status != StatusRejected {
			out.Changes, err = in.plan(ctx, f.Vendor, units, out.Status)
		}
		return out, err
	}
	return out, in.store(ctx, f, m, name, at, out, info, units)
}

// checkFile checks the vendor and platform ids a file will be stored under.
func checkFile(f *File) error {
	if err := bibstat.CheckSegment(f.Vendor); err != nil || strings.ToLower(f.Vendor) != f.Vendor {
		return fmt.Errorf("ingest %s: vendor %q: want a lower-case id of letters, digits, '.', '_' or '-'", f.Name, f.Vendor)
	}
	if f.Platform == "" {
		f.Platform = f.Vendor
	}
	if err := bibstat.CheckSegment(f.Platform); err != nil {
		return fmt.Errorf("ingest %s: platform: %w", f.Name, err)
	}
	return nil
}

// decide sets the outcome's status from what reading found.
func (in *Ingester) decide(out *Outcome, units *unitSet, reason string) {
	if reason == "" && len(units.byID) == 0 {
		reason = "no usage rows found"
	}
	if reason == "" && len(out.Rejected) > 0 && !in.AcceptPartial {
		reason = fmt.Sprintf("%d rows cannot be mapped (first: %s); fix the file or the mapping, or load the rest with --accept-partial",
			rejectedRows(out.Rejected), out.Rejected[0])
	}
	out.Status = StatusLoaded
	switch {
	case reason != "":
		out.Status, out.Reason = StatusRejected, reason
	case len(out.Rejected) > 0 || out.skipped > 0:
		out.Status = StatusPartial
	}
	out.Months = units.months()
}

// store writes the units of a file that loads, and the file's record.
func (in *Ingester) store(ctx context.Context, f File, m *Mapping, name string, at time.Time, out *Outcome, info *bibstat.UploadInfo, units *unitSet) error {
	if out.Status != StatusRejected {
		if info.Mapping != "" {
			if err := in.Store.Put(ctx, info.Mapping, bytes.NewReader(m.Content())); err != nil {
				return fmt.Errorf("archive mapping %s: %w", m.Name(), err)
			}
		}
		if err := in.writeUnits(ctx, f, name, at, out, info, units); err != nil {
			return err
		}
	}
	rec := bibstat.Sidecar{Key: info.File, Source: "upload", Platform: f.Platform, Report: bibstat.ReportID(out.Report),
		ContentType: contentType(f.Data), SHA256: out.SHA256, Size: out.Size, HarvestedAt: at,
		State: stateOf(out.Status, out.Rows), Error: out.Reason, Release: out.Release, Rows: out.Rows, Upload: info}
	if len(out.Totals) == 1 {
		for lib := range out.Totals {
			rec.Library = lib
		}
	}
	if len(out.Months) > 0 {
		rec.Month = out.Months[0].String()
	}
	if err := putSidecar(ctx, in.Store, info.File+FileRecordSuffix, rec); err != nil {
		return err
	}
	in.log().Info("upload ingested", "file", f.Name, "vendor", f.Vendor, "status", string(out.Status), "rows", out.Rows, "units", len(out.Units))
	return nil
}

// read fills units and out from f; it returns why the file is rejected, or "".
func (in *Ingester) read(ctx context.Context, f File, m *Mapping, fileKey string, lim Limits, units *unitSet, out *Outcome) string {
	if int64(len(f.Data)) > lim.MaxFileBytes {
		return fmt.Sprintf("file is larger than %d bytes", lim.MaxFileBytes)
	}
	// COUNTER files need no mapping, and a vendor with a mapping may still
	// send COUNTER: try COUNTER first, the mapping when that fails.
	reason, isCounter := in.readCounter(ctx, f, fileKey, lim, units, out)
	if isCounter || ctx.Err() != nil {
		return reason
	}
	units.reset()
	out.Totals = map[bibstat.LibraryID]map[string]int64{}
	if m == nil {
		return fmt.Sprintf("not a COUNTER report (%s), and vendor %q has no mapping (--mappings DIR with %s.yaml)", reason, f.Vendor, f.Vendor)
	}
	out.Kind, out.Mapping, out.Release, out.Report = "mapping", m.Name(), Release, strings.ToLower(m.Report)
	res, err := m.ReadRows(ctx, f.Data, ReadOptions{Name: path.Base(f.Name), SourceKey: fileKey, Library: f.Library, Limits: lim},
		func(lib bibstat.LibraryID, mon bibstat.Month, r *schemas.Row) error {
			// A row's zero count makes its unit too: the vendor wrote the
			// zero, so it is a positive "no usage" for that library and month.
			s, err := units.get(unitID{report: out.Report, lib: lib, month: mon})
			if err != nil || r == nil {
				return err
			}
			return units.add(s, lib, r)
		})
	out.Rows, out.Totals = units.rows, units.totals
	if res != nil {
		out.Rejected, out.Warnings = append(out.Rejected, res.Rejected...), append(out.Warnings, res.Warnings...)
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// writeUnits stores each unit's parsed Parquet and its sidecar. The unit's
// key names no object: the unit sidecar's Upload.File is the archived file.
func (in *Ingester) writeUnits(ctx context.Context, f File, name string, at time.Time, out *Outcome, info *bibstat.UploadInfo, units *unitSet) error {
	state := bibstat.StateOK
	if out.Status == StatusPartial {
		state = bibstat.StatePartial
	}
	for _, id := range units.written(out.Status) {
		s := units.byID[id]
		data, err := s.finish()
		if err != nil {
			return fmt.Errorf("parse %s: %w", f.Name, err)
		}
		key := id.dir(f.Vendor) + name
		side := bibstat.Sidecar{Key: key, Source: "upload", Platform: f.Platform, Library: id.lib,
			Report: bibstat.ReportID(id.report), Month: id.month.String(), ContentType: contentType(f.Data),
			SHA256: out.SHA256, Size: out.Size, HarvestedAt: at, State: state, Release: out.Release, Rows: s.rows,
			ParsedKey: bibstat.ParsedKey(key, schemas.Version), ParserVersion: schemas.Version, Upload: info}
		if s.rows == 0 && state == bibstat.StateOK {
			side.State = bibstat.StateZero
		}
		if err := in.Store.Put(ctx, side.ParsedKey, bytes.NewReader(data)); err != nil {
			return fmt.Errorf("archive parsed %s: %w", key, err)
		}
		if err := putSidecar(ctx, in.Store, bibstat.SidecarKey(key), side); err != nil {
			return err
		}
	}
	return nil
}

// findDuplicate returns the raw key of an earlier upload of the same bytes
// that was loaded with the same mapping (or as COUNTER), or "".
func (in *Ingester) findDuplicate(ctx context.Context, vendor, sha, mappingKey string) (string, error) {
	keys, err := in.Store.List(ctx, bibstat.UploadFilesPrefix(vendor))
	if err != nil {
		return "", fmt.Errorf("list uploads of %s: %w", vendor, err)
	}
	for _, k := range keys {
		if !strings.HasSuffix(k, FileRecordSuffix) || !strings.Contains(path.Base(k), "-"+sha[:8]+".") {
			continue
		}
		rec, err := getSidecar(ctx, in.Store, k)
		if err != nil {
			return "", err
		}
		if rec.SHA256 != sha || !rec.State.Loadable() || rec.Upload == nil {
			continue // a rejected upload may be retried once the mapping is fixed
		}
		if rec.Upload.Mapping == "" || rec.Upload.Mapping == mappingKey {
			return rec.Key, nil
		}
	}
	return "", nil
}

// isilOf finds the library in a COUNTER Institution_ID ("ISIL:NO-2030100; Proprietary:x:y").
func isilOf(ids string) bibstat.LibraryID {
	for _, part := range strings.Split(ids, ";") {
		p := strings.TrimSpace(part)
		if strings.HasPrefix(strings.ToUpper(p), "ISIL:") {
			if id, err := bibstat.ParseLibraryID(p); err == nil {
				return id
			}
		}
	}
	return ""
}

func stateOf(s Status, rows int64) bibstat.State {
	switch s {
	case StatusRejected:
		return bibstat.StateFailed
	case StatusPartial:
		return bibstat.StatePartial
	}
	if rows == 0 {
		return bibstat.StateZero
	}
	return bibstat.StateOK
}

// extOf keeps a file's extension for the archive key, when it is a plain one.
func extOf(name string) string {
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(path.Base(strings.ReplaceAll(name, "\\", "/"))), "."))
	if ext == "" || len(ext) > 8 || bibstat.CheckSegment(ext) != nil || strings.ContainsAny(ext, "._-") {
		return "bin"
	}
	return ext
}

func contentType(data []byte) string {
	switch {
	case mapping.IsXLSX(data):
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")), bytes.HasPrefix(bytes.TrimSpace(data), []byte("[")):
		return "application/json"
	default:
		return "text/plain"
	}
}

func rejectedRows(rs []Reject) int {
	seen := map[string]bool{}
	for _, r := range rs {
		seen[fmt.Sprintf("%s:%d", r.Sheet, r.Row)] = true
	}
	return len(seen)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// putSidecar stores a unit's sidecar or a file's record (both a bibstat.Sidecar).
func putSidecar(ctx context.Context, st Store, key string, s bibstat.Sidecar) error {
	b, err := bibstat.EncodeSidecar(s)
	if err != nil {
		return err
	}
	if err := st.Put(ctx, key, bytes.NewReader(b)); err != nil {
		return fmt.Errorf("store %s: %w", key, err)
	}
	return nil
}

func getSidecar(ctx context.Context, st Store, key string) (bibstat.Sidecar, error) {
	rc, err := st.Get(ctx, key)
	if err != nil {
		return bibstat.Sidecar{}, fmt.Errorf("read %s: %w", key, err)
	}
	defer rc.Close()
	s, err := bibstat.DecodeSidecar(rc)
	if err != nil {
		return bibstat.Sidecar{}, fmt.Errorf("read %s: %w", key, err)
	}
	return s, nil
}
