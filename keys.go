package bibstat

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"
)

// The object-store key layout. Ingest writes under RawPrefix, the parser
// under ParsedPrefix, transform exports under CuratedPrefix and report under
// ReportsPrefix. Every key is built here so that no stage guesses another's.
const (
	RawPrefix     = "raw/"
	ParsedPrefix  = "parsed/"
	CuratedPrefix = "curated/"
	ReportsPrefix = "reports/"
	InboxPrefix   = "inbox/"

	// SidecarSuffix is appended to a raw object's key to name its sidecar.
	SidecarSuffix = ".meta.json"
)

var segmentRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// CheckSegment reports whether s can be one segment of an object key: it
// must not be empty, ".", "..", or contain a slash, so that no key built from
// vendor or config text can escape its prefix.
func CheckSegment(s string) error {
	if !segmentRE.MatchString(s) || strings.Contains(s, "..") {
		return fmt.Errorf("key segment %q: %w", s, ErrBadKey)
	}
	return nil
}

// CheckKey reports whether key is a clean relative key: no empty, "." or
// ".." segment, no leading slash, no backslash.
func CheckKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.ContainsAny(key, "\\\x00") || path.Clean(key) != key {
		return fmt.Errorf("key %q: %w", key, ErrBadKey)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "." || seg == ".." || seg == "" {
			return fmt.Errorf("key %q: %w", key, ErrBadKey)
		}
	}
	return nil
}

// Unit is one harvest unit: a credential (a library on a platform), a
// COUNTER report and a month.
type Unit struct {
	Platform   string   // platform id from config, e.g. "avisarkivet"
	Credential string   // credential id, unique within the platform, e.g. the library's bibnr
	Report     ReportID // e.g. "pr"
	Month      Month
}

// String names the unit in logs and errors.
func (u Unit) String() string {
	return u.Platform + "/" + u.Credential + "/" + string(u.Report) + "/" + u.Month.String()
}

// Check validates every segment of the unit.
func (u Unit) Check() error {
	for _, s := range []string{u.Platform, u.Credential, string(u.Report)} {
		if err := CheckSegment(s); err != nil {
			return fmt.Errorf("unit %s: %w", u, err)
		}
	}
	if u.Month.IsZero() {
		return fmt.Errorf("unit %s: %w: no month", u, ErrBadKey)
	}
	return nil
}

// UnitPrefix is the key prefix under which every harvest of u is stored.
func (u Unit) UnitPrefix() string {
	return RawPrefix + "sushi/" + u.Platform + "/" + u.Credential + "/" + string(u.Report) + "/" + u.Month.String() + "/"
}

// RawKey names one harvest of u at time at. Keys sort by harvest time, so
// the newest harvest of a unit is the last key under UnitPrefix.
func (u Unit) RawKey(at time.Time, ext string) string {
	return u.UnitPrefix() + at.UTC().Format("20060102T150405.000000000Z") + "." + ext
}

// ParsedKey names the parsed Parquet of a raw object, per parser version, so
// that a new reader never meets rows written by an old one.
func ParsedKey(rawKey string, parserVersion int) string {
	return fmt.Sprintf("%sv%d/%s.parquet", ParsedPrefix, parserVersion, strings.TrimPrefix(rawKey, RawPrefix))
}

// IsSidecar reports whether key names a sidecar.
func IsSidecar(key string) bool { return strings.HasSuffix(key, SidecarSuffix) }
