package accesslog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/store"
	"github.com/bibliotek24/bibstat/schemas"
)

// SourceName is the Sidecar.Source of access-log units.
const SourceName = bibstat.SourceAccessLog

// Ingester archives access logs, minimised, and recounts the months they touch.
type Ingester struct {
	Store  store.Store
	Config *Config
	Keys   *Keyring
	Robots *Robots
	Log    *slog.Logger
	Now    func() time.Time // default time.Now
}

// FileResult is what became of one log.
type FileResult struct {
	Name      string
	SHA256    string
	Stats     Stats
	Duplicate bool // the same bytes were ingested before: nothing archived
}

// UnitResult is one unit written.
type UnitResult struct {
	Unit   UnitKey
	Key    string
	Counts Counts
}

// IngestFile reads the log at path as source and archives its minimised
// events, one object per month. It returns the months it touched, for
// Recount. A log whose bytes were ingested before is skipped, so that no
// use is counted twice.
func (in *Ingester) IngestFile(ctx context.Context, path, source string) (FileResult, []bibstat.Month, error) {
	res := FileResult{Name: path}
	src, err := in.Config.Source(source)
	if err != nil {
		return res, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return res, nil, fmt.Errorf("ingest log: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	cfgSum := sha256.Sum256(in.Config.Raw())
	cfgKey := bibstat.AccessLogConfigKey(hex.EncodeToString(cfgSum[:]))
	months := map[bibstat.Month]*monthSpool{}
	defer func() {
		for _, m := range months {
			m.remove()
		}
	}()
	rd := NewReader(in.Config, src, in.Keys, in.Robots)
	st, err := rd.Read(ctx, path, io.TeeReader(f, h), func(ev *Event) error {
		m := bibstat.MonthOf(ev.Time)
		sp := months[m]
		if sp == nil {
			var serr error
			if sp, serr = newMonthSpool(cfgKey); serr != nil {
				return serr
			}
			months[m] = sp
		}
		return sp.ew.Write(ev)
	})
	res.Stats = st
	if err != nil {
		return res, nil, err
	}
	res.SHA256 = hex.EncodeToString(h.Sum(nil))
	touched := slices.SortedFunc(maps.Keys(months), compareMonths)
	for _, m := range touched {
		dup, err := in.seen(ctx, m, res.SHA256)
		if err != nil {
			return res, nil, err
		}
		if dup {
			res.Duplicate = true
			return res, nil, nil
		}
	}
	if err := in.Store.Put(ctx, cfgKey, bytes.NewReader(in.Config.Raw())); err != nil {
		return res, nil, fmt.Errorf("archive access-log declaration: %w", err)
	}
	at := in.now()
	for _, m := range touched {
		if err := months[m].put(ctx, in.Store, bibstat.AccessLogEventsKey(m, at, res.SHA256)); err != nil {
			return res, nil, err
		}
	}
	in.log().Info("access log ingested", "file", path, "lines", st.Lines, "events", st.Events, "bad", st.Bad, "months", len(touched))
	return res, touched, nil
}

// seen reports whether a log with this sha256 already has events for m.
func (in *Ingester) seen(ctx context.Context, m bibstat.Month, sha string) (bool, error) {
	keys, err := in.Store.List(ctx, bibstat.AccessLogEventsPrefix(m))
	if err != nil {
		return false, fmt.Errorf("list access-log events: %w", err)
	}
	for _, k := range keys {
		if strings.HasSuffix(k, "-"+sha[:12]+".csv") {
			return true, nil
		}
	}
	return false, nil
}

// Recount counts month m again from every archived events object of it and
// writes one unit per platform and library, superseding the earlier count.
// The objects are merged by time (countMonth), so archived logs that
// overlap in time count the same as one log, in any order.
func (in *Ingester) Recount(ctx context.Context, m bibstat.Month) ([]UnitResult, error) {
	keys, err := in.Store.List(ctx, bibstat.AccessLogEventsPrefix(m))
	if err != nil {
		return nil, fmt.Errorf("list access-log events: %w", err)
	}
	totals, err := in.countMonth(ctx, keys)
	if err != nil {
		return nil, err
	}
	units := slices.SortedFunc(maps.Keys(totals), func(a, b UnitKey) int {
		return strings.Compare(a.Platform+"/"+string(a.Library), b.Platform+"/"+string(b.Library))
	})
	at := in.now()
	var out []UnitResult
	for _, u := range units {
		if u.Month != m {
			continue // cannot happen: events are filed by their own month
		}
		key, err := in.writeUnit(ctx, u, totals[u], at)
		if err != nil {
			return out, err
		}
		out = append(out, UnitResult{Unit: u, Key: key, Counts: totals[u]})
	}
	return out, nil
}

// writeUnit stores one unit's rows as Parquet and its sidecar. Like an
// upload's, the unit key names no object of its own: the sidecar's
// ParsedKey is the Parquet, the events under AccessLogEventsPrefix the raw.
func (in *Ingester) writeUnit(ctx context.Context, u UnitKey, n Counts, at time.Time) (string, error) {
	key := bibstat.AccessLogUnitPrefix(u.Platform, u.Library, u.Month) + at.UTC().Format("20060102T150405.000000000Z") + ".accesslog"
	if err := bibstat.CheckKey(key); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	rows, err := in.unitParquet(&buf, key, u, n)
	if err != nil {
		return "", fmt.Errorf("unit %s: %w", key, err)
	}
	sum := sha256.Sum256(buf.Bytes())
	side := bibstat.Sidecar{Key: key, Source: SourceName, Platform: u.Platform, Credential: string(u.Library),
		Library: u.Library, Report: "pr", Month: u.Month.String(), ContentType: "application/vnd.apache.parquet",
		SHA256: hex.EncodeToString(sum[:]), Size: int64(buf.Len()), HarvestedAt: at, State: bibstat.StateOK,
		Release: "5.1", Rows: rows, ParsedKey: bibstat.ParsedKey(key, schemas.Version), ParserVersion: schemas.Version}
	if rows == 0 {
		side.State = bibstat.StateZero
	}
	if err := in.Store.Put(ctx, side.ParsedKey, bytes.NewReader(buf.Bytes())); err != nil {
		return "", fmt.Errorf("archive unit %s: %w", key, err)
	}
	b, err := bibstat.EncodeSidecar(side)
	if err != nil {
		return "", err
	}
	if err := in.Store.Put(ctx, bibstat.SidecarKey(key), bytes.NewReader(b)); err != nil {
		return "", fmt.Errorf("archive unit %s: %w", key, err)
	}
	return key, nil
}

// unitParquet writes the unit's nonzero counts as PR usage rows. No row
// holds a user or session: a pseudonym never leaves the events.
func (in *Ingester) unitParquet(w io.Writer, key string, u UnitKey, n Counts) (int64, error) {
	pw, err := schemas.NewParquetWriter(w)
	if err != nil {
		return 0, err
	}
	bt := schemas.NewBatcher(nil, 16, pw.Write)
	defer bt.Release()
	dataType := "Database"
	for i := range in.Config.Platforms {
		if in.Config.Platforms[i].ID == u.Platform {
			dataType = in.Config.Platforms[i].DataType
		}
	}
	row := schemas.Row{Release: "5.1", ReportID: "PR", CustomerID: string(u.Library), InstitutionID: "ISIL:NO-" + string(u.Library),
		Platform: u.Platform, AccessMethod: "Regular", SourceKey: key, Month: u.Month.First()}
	for i, m := range Metrics {
		if n[i] == 0 {
			continue
		}
		row.MetricType, row.Count, row.DataType = m, n[i], dataType
		if m == SearchesPlatform {
			row.DataType = "Platform" // COUNTER's Data_Type of platform searches
		}
		if err := bt.Add(&row); err != nil {
			return 0, err
		}
	}
	if err := bt.Flush(); err != nil {
		return 0, err
	}
	if err := pw.Close(); err != nil {
		return 0, err
	}
	return pw.Rows(), nil
}

func (in *Ingester) now() time.Time    { return nowOr(in.Now) }
func (in *Ingester) log() *slog.Logger { return logOr(in.Log) }

// nowOr is now() in UTC, time.Now without one.
func nowOr(now func() time.Time) time.Time {
	if now != nil {
		return now().UTC()
	}
	return time.Now().UTC()
}

// logOr is l, or a logger that discards.
func logOr(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

// monthSpool gathers one month's events of a log in a temporary file, so
// memory does not grow with the log.
type monthSpool struct {
	f  *os.File
	ew *EventWriter
}

func newMonthSpool(configKey string) (*monthSpool, error) {
	f, err := os.CreateTemp("", "bibstat-accesslog-*")
	if err != nil {
		return nil, fmt.Errorf("spool events: %w", err)
	}
	ew, err := NewEventWriter(f, configKey)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &monthSpool{f: f, ew: ew}, nil
}

func (s *monthSpool) put(ctx context.Context, st store.Store, key string) error {
	if err := s.ew.Flush(); err != nil {
		return err
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("spool events: %w", err)
	}
	if err := st.Put(ctx, key, s.f); err != nil {
		return fmt.Errorf("archive access-log events %s: %w", key, err)
	}
	return nil
}

func (s *monthSpool) remove() {
	s.f.Close()
	_ = os.Remove(s.f.Name()) // a temporary file; nothing to do if it is gone

}

func compareMonths(a, b bibstat.Month) int {
	switch {
	case a.Before(b):
		return -1
	case b.Before(a):
		return 1
	}
	return 0
}
