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
	RawPrefix      = "raw/"
	ParsedPrefix   = "parsed/"
	CuratedPrefix  = "curated/"
	ReportsPrefix  = "reports/"
	InboxPrefix    = "inbox/"
	RegisterPrefix = "register/"

	// SidecarSuffix is appended to a raw object's key to name its sidecar.
	SidecarSuffix = ".meta.json"
)

// The register is what the warehouse knows besides usage: the libraries,
// the institution mapping and the pools. Its files live under
// RegisterPrefix, beside the raw archive, so that a rebuild needs nothing
// but the store.
const (
	// LibrariesXMLKey holds Nasjonalbiblioteket's BaseBibliotek export
	// (bb-full.xml layout); LibrariesCSVKey a CSV with the same fields.
	// The XML wins when both exist.
	LibrariesXMLKey = RegisterPrefix + "libraries.xml"
	LibrariesCSVKey = RegisterPrefix + "libraries.csv"
	// InstitutionsKey: CSV platform,id_kind,id_value,library_id,pool_id.
	InstitutionsKey = RegisterPrefix + "institutions.csv"
	// PoolsKey: CSV pool_id,name,rule,metric_type,members (members separated by spaces).
	PoolsKey = RegisterPrefix + "pools.csv"

	// AgreementsPrefix holds every import of the agreement registry, the
	// YAML byte-exact with its record (AgreementsRecordSuffix) beside it.
	// Keys sort by import time, so replaying them in order rebuilds the
	// registry and its history.
	AgreementsPrefix       = RegisterPrefix + "agreements/"
	AgreementsRecordSuffix = ".import.json"
)

// AgreementsImportKey names one import of the agreement registry: its UTC
// time and the start of the file's sha256, so that two imports in the same
// instant of different files do not collide.
func AgreementsImportKey(at time.Time, sha string) string {
	return AgreementsPrefix + at.UTC().Format("20060102T150405.000000000Z") + "-" + sha[:min(12, len(sha))] + ".yaml"
}

// Uploads (vendor files without an API) are archived under
// raw/upload/<vendor>/: the file byte-exact under files/ with its record
// (UploadRecordSuffix) beside it, the mapping YAML that read it under
// mappings/, and one sidecar per unit under <report>/<library>/<month>/.
// Files are dropped in inbox/<vendor>/ and moved, once processed, to
// inbox/<vendor>/done/ or inbox/<vendor>/rejected/.
const (
	// UploadRecordSuffix names an uploaded file's own record beside it. It
	// is a Sidecar, but not named SidecarSuffix: the file is no unit of its
	// own, its rows are loaded through the unit sidecars.
	UploadRecordSuffix = ".upload.json"

	InboxDoneDir     = "done"
	InboxRejectedDir = "rejected"
	// InboxReasonSuffix names the readable note written next to a processed file.
	InboxReasonSuffix = ".reason.txt"
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

// SidecarKey names the sidecar of the raw object rawKey.
func SidecarKey(rawKey string) string { return rawKey + SidecarSuffix }

// UnitPrefixOf is the key prefix every harvest of rawKey's unit shares, a
// harvested or an uploaded one: the unit is the raw key's folder.
func UnitPrefixOf(rawKey string) string { return path.Dir(rawKey) + "/" }

// UploadFilesPrefix is where vendor's uploaded files are archived.
func UploadFilesPrefix(vendor string) string { return RawPrefix + "upload/" + vendor + "/files/" }

// UploadFileKey names an uploaded file in the archive; name is made unique
// by the caller (upload time and checksum).
func UploadFileKey(vendor, name string) string { return UploadFilesPrefix(vendor) + name }

// UploadMappingKey names the archived mapping YAML of vendor by the start
// of its checksum, so a changed mapping is a new object.
func UploadMappingKey(vendor, sha string) string {
	return RawPrefix + "upload/" + vendor + "/mappings/" + sha + ".yaml"
}

// UploadUnitPrefix is the key prefix of one unit of vendor's uploads: its
// report, library and month. It is the grain of supersession for uploads.
func UploadUnitPrefix(vendor, report string, lib LibraryID, m Month) string {
	return RawPrefix + "upload/" + vendor + "/" + report + "/" + string(lib) + "/" + m.String() + "/"
}

// Access logs (the consortium's own proxy and single sign-on) are archived
// under AccessLogPrefix: the minimised, pseudonymised events of each ingested
// log under events/ (what a rebuild recounts from; the original log is never
// archived), and one unit per platform, library and month under units/, its
// sidecar naming the parsed Parquet, of source "access-log".
const AccessLogPrefix = RawPrefix + "accesslog/"

// AccessLogEventsKey names the minimised events of month m in one ingested
// log, by ingest time and the start of the original's sha256: a month is
// recounted from every object under AccessLogEventsPrefix(m).
func AccessLogEventsKey(m Month, at time.Time, sha string) string {
	return AccessLogEventsPrefix(m) + at.UTC().Format("20060102T150405.000000000Z") + "-" + sha[:min(12, len(sha))] + ".csv"
}

// AccessLogConfigKey names an archived access-log declaration (sources and
// platforms, YAML) by the start of its sha256, as UploadMappingKey does a
// mapping: the events say which declaration read them.
func AccessLogConfigKey(sha string) string {
	return AccessLogPrefix + "config/" + sha[:min(12, len(sha))] + ".yaml"
}

// AccessLogEventsPrefix holds the minimised events of month m.
func AccessLogEventsPrefix(m Month) string { return AccessLogPrefix + "events/" + m.String() + "/" }

// AccessLogUnitPrefix is the key prefix of one access-log unit: the grain of
// supersession, as UploadUnitPrefix is for uploads.
func AccessLogUnitPrefix(platform string, lib LibraryID, m Month) string {
	return AccessLogPrefix + "units/" + platform + "/" + string(lib) + "/" + m.String() + "/"
}

// UploadSiblingKey names the unit of the same uploaded file as unitKey
// (one of the file's unit keys) for library lib and month m: the file's
// name under that unit's prefix. It is "" when unitKey is not an upload
// unit's key.
func UploadSiblingKey(unitKey string, lib LibraryID, m Month) string {
	// raw/upload/<vendor>/<report>/<library>/<yyyy-mm>/<name>
	parts := strings.Split(unitKey, "/")
	if len(parts) != 7 || parts[0]+"/" != RawPrefix || parts[1] != "upload" {
		return ""
	}
	return UploadUnitPrefix(parts[2], parts[3], lib, m) + parts[6]
}

// InboxDir is the folder of vendor's inbox that holds processed files
// (InboxDoneDir or InboxRejectedDir).
func InboxDir(vendor, dir string) string { return InboxPrefix + vendor + "/" + dir + "/" }

// CuratedTablePrefix is where the curated Parquet of a warehouse table is
// exported, Hive-partitioned below it.
func CuratedTablePrefix(table string) string { return CuratedPrefix + table + "/" }
